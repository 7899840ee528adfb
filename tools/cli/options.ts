/**
 * Option values every command parses the same way, so `--epochs 0` and `--repeats 0` are
 * refused in the same words. Commander turns an InvalidArgumentError into a usage error (exit 2).
 */
import { InvalidArgumentError, Option } from "commander";

/** An integer >= 1 (within the safe range), for counts and sizes. */
export function positiveInt(name: string): (v: string) => number {
  return (v) => {
    if (!/^\d+$/.test(v) || Number(v) < 1 || !Number.isSafeInteger(Number(v))) throw new InvalidArgumentError(`${name} must be a positive integer`);
    return Number(v);
  };
}

/** An integer >= 0, for seeds. */
export function nonNegativeInt(name: string): (v: string) => number {
  return (v) => {
    if (!/^\d+$/.test(v) || !Number.isSafeInteger(Number(v))) throw new InvalidArgumentError(`${name} must be a non-negative integer`);
    return Number(v);
  };
}

/** `--dtype f32|f16|int8`: how a bundle stores its weights. */
export function dtypeOption(description: string): Option {
  return new Option("--dtype <dtype>", description).choices(["f32", "f16", "int8"]);
}
