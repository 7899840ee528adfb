// Wasm files imported as modules (workerd, wrangler, Vercel edge): the import is the compiled module.
declare module "*.wasm" {
  const module: WebAssembly.Module;
  export default module;
}
declare module "*.wasm?module" {
  const module: WebAssembly.Module;
  export default module;
}
