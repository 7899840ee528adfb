import { fail } from "./errors.js";

/** Fetches a URL, failing with E_IO. */
export async function fetchOk(u: URL | string): Promise<Response> {
  const res = await fetch(u).catch((e) => {
    fail("E_IO", `could not fetch ${u}: ${(e as Error).message}`, e);
  });
  if (!res.ok) fail("E_IO", `could not fetch ${u}: HTTP ${res.status}`);
  return res;
}

