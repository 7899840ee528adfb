import { fail } from "./errors.js";

/** Fetches a URL, failing with E_IO. */
export async function fetchOk(u: URL): Promise<Response> {
  const res = await fetch(u).catch((e) => {
    fail("E_IO", `could not fetch ${u.href}: ${(e as Error).message}`, e);
  });
  if (!res.ok) fail("E_IO", `could not fetch ${u.href}: HTTP ${res.status}`);
  return res;
}

