/**
 * Bounded output buffer: keeps the first and the last half of the cap so both the start of a failure
 * message and its final lines survive a flood of output.
 */
export class CappedBuffer {
  private readonly head: Buffer[] = [];
  private headBytes = 0;
  private tail: Buffer[] = [];
  private tailBytes = 0;
  private dropped = 0;
  private readonly halfCap: number;

  constructor(readonly capBytes: number) {
    this.halfCap = Math.max(1, Math.floor(capBytes / 2));
  }

  append(chunk: Buffer): void {
    let rest = chunk;
    if (this.headBytes < this.halfCap) {
      const take = Math.min(this.halfCap - this.headBytes, rest.length);
      this.head.push(rest.subarray(0, take));
      this.headBytes += take;
      rest = rest.subarray(take);
    }
    if (rest.length === 0) return;
    this.tail.push(rest);
    this.tailBytes += rest.length;
    this.trimTail();
  }

  private trimTail(): void {
    while (this.tailBytes > this.halfCap) {
      const first = this.tail[0];
      if (first === undefined) return;
      const excess = this.tailBytes - this.halfCap;
      if (first.length <= excess) {
        this.tail.shift();
        this.tailBytes -= first.length;
        this.dropped += first.length;
      } else {
        this.tail[0] = first.subarray(excess);
        this.tailBytes -= excess;
        this.dropped += excess;
      }
    }
  }

  get truncated(): boolean {
    return this.dropped > 0;
  }

  toString(): string {
    const head = Buffer.concat(this.head).toString('utf8');
    const tail = Buffer.concat(this.tail).toString('utf8');
    if (this.dropped === 0) return head + tail;
    return `${head}\n[... ${this.dropped} bytes of output omitted ...]\n${tail}`;
  }
}

/** Last `maxChars` characters, cut at a line start when possible. */
export function tailExcerpt(text: string, maxChars = 2000): string {
  const trimmed = text.trimEnd();
  if (trimmed.length <= maxChars) return trimmed;
  const cut = trimmed.slice(trimmed.length - maxChars);
  const newline = cut.indexOf('\n');
  return newline >= 0 && newline < cut.length - 1 ? `...${cut.slice(newline)}` : `...${cut}`;
}
