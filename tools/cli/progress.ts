/**
 * The CLI's progress bar (cli-progress) on stderr: drawn on a terminal, a line every few
 * hundred ms elsewhere. Commands decide when a job is long enough to show one.
 */
import { createRequire } from "node:module";

export interface Bar {
  start(total: number, value: number, payload?: Record<string, unknown>): void;
  update(value: number, payload?: Record<string, unknown>): void;
  stop(): void;
}

/** A bar with cli-progress's `format` ({bar}, {percentage}, {value}, {total} and payload keys). */
export function progressBar(format: string): Bar {
  // cli-progress ships no types; required at run time (the CLI build keeps packages external)
  const cliProgress = createRequire(import.meta.url)("cli-progress") as {
    SingleBar: new (opts: Record<string, unknown>, preset: unknown) => Bar;
    Presets: Record<string, unknown>;
  };
  return new cliProgress.SingleBar(
    {
      format,
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: false,
      noTTYOutput: !process.stderr.isTTY,
      notTTYSchedule: 200,
    },
    cliProgress.Presets.shades_classic,
  );
}
