/**
 * UTF-8 TextEncoder / TextDecoder for scopes that lack them: an AudioWorkletGlobalScope has
 * neither, and the runtime reads a bundle's JSON header and hashes session layouts with them.
 * Installed by the worklet host only where missing; `fatal: true` throws on malformed input as
 * the real decoder does (the bundle reader relies on it).
 */
class Utf8Encoder {
  readonly encoding = "utf-8";
  encode(s = ""): Uint8Array {
    const out: number[] = [];
    for (let i = 0; i < s.length; i++) {
      let c = s.charCodeAt(i);
      if (c >= 0xd800 && c < 0xdc00 && i + 1 < s.length) {
        const d = s.charCodeAt(i + 1);
        if (d >= 0xdc00 && d < 0xe000) {
          c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          i++;
        }
      }
      if (c >= 0xd800 && c < 0xe000) c = 0xfffd; // a lone surrogate
      if (c < 0x80) out.push(c);
      else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
      else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
      else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    }
    return Uint8Array.from(out);
  }
}

class Utf8Decoder {
  readonly encoding = "utf-8";
  readonly fatal: boolean;
  constructor(label = "utf-8", options: { fatal?: boolean } = {}) {
    if (!/^utf-?8$/i.test(label)) throw new RangeError(`this TextDecoder reads UTF-8 only, not ${label}`);
    this.fatal = !!options.fatal;
  }

  decode(input?: ArrayBuffer | ArrayBufferView): string {
    const b = input === undefined ? new Uint8Array(0) : input instanceof ArrayBuffer ? new Uint8Array(input) : new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
    let s = "";
    const bad = () => {
      if (this.fatal) throw new TypeError("The encoded data was not valid UTF-8");
      return 0xfffd;
    };
    for (let i = 0; i < b.length;) {
      const a = b[i];
      let c: number;
      let n = a < 0x80 ? 0 : a >= 0xc2 && a < 0xe0 ? 1 : a >= 0xe0 && a < 0xf0 ? 2 : a >= 0xf0 && a < 0xf5 ? 3 : -1;
      if (n < 0) {
        c = bad();
        n = 0;
      } else {
        c = n === 0 ? a : a & (0x3f >> n);
        for (let k = 1; k <= n; k++) {
          const t = b[i + k];
          if (t === undefined || (t & 0xc0) !== 0x80) {
            c = -1;
            break;
          }
          c = (c << 6) | (t & 63);
        }
        const min = [0, 0x80, 0x800, 0x10000][n];
        if (c < min || c > 0x10ffff || (c >= 0xd800 && c < 0xe000)) {
          c = bad();
          n = 0;
        }
      }
      s += String.fromCodePoint(c);
      i += n + 1;
    }
    return s;
  }
}

export function installTextCodecs(): void {
  const g = globalThis as { TextEncoder?: unknown; TextDecoder?: unknown };
  g.TextEncoder ??= Utf8Encoder;
  g.TextDecoder ??= Utf8Decoder;
}
