// Tests import the platform-neutral API from src/index.ts; loading the Node entry registers
// how the kernel builds and model files are read, exactly as the package's "node" export
// condition does for users.
import "../src/node.ts";
