/**
 * Newline-delimited message framing: bytes arrive in chunks of any size, a chunk may hold
 * several messages or part of one, and a multi-byte UTF-8 character may be split between
 * two chunks. Lines are cut on the byte `\n` and decoded whole, so none of that matters.
 */

const NEWLINE = 0x0a;

/** Splits a byte stream into lines (without their `\n`, and without a `\r` before it). */
export class LineDecoder {
  private parts: Buffer[] = [];

  /** Takes the next chunk; returns the lines it completed. */
  push(chunk: Buffer | Uint8Array | string): string[] {
    let bytes = typeof chunk === "string" ? Buffer.from(chunk, "utf8") : Buffer.from(chunk);
    const lines: string[] = [];
    let at = bytes.indexOf(NEWLINE);
    while (at !== -1) {
      this.parts.push(bytes.subarray(0, at));
      lines.push(this.take());
      bytes = bytes.subarray(at + 1);
      at = bytes.indexOf(NEWLINE);
    }
    if (bytes.length > 0) this.parts.push(bytes);
    return lines;
  }

  /** What is left after the last `\n` (a line the stream ended in the middle of), if any. */
  end(): string | undefined {
    return this.parts.length > 0 ? this.take() : undefined;
  }

  private take(): string {
    const line = Buffer.concat(this.parts).toString("utf8");
    this.parts = [];
    return line.endsWith("\r") ? line.slice(0, -1) : line;
  }
}

/** One message as a line to write. */
export function encode(message: unknown): string {
  return `${JSON.stringify(message)}\n`;
}

/** Half a surrogate pair: with the `u` flag, a whole pair is one code point and not matched. */
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * Whether a string in `value` (a key or a value) holds half of a surrogate pair. Such a
 * string has no UTF-8 form: JSON can escape it (`\ud800`), but capm cannot read it.
 */
export function hasLoneSurrogate(value: unknown): boolean {
  let found = false;
  JSON.stringify(value, (key: string, v: unknown) => {
    if (LONE_SURROGATE.test(key) || (typeof v === "string" && LONE_SURROGATE.test(v))) found = true;
    return v;
  });
  return found;
}
