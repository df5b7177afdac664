/**
 * The `$/progress` notifications of one request as an async iterable: every iterator sees
 * every notification from the first, and ends when the request is answered (all of a
 * request's notifications come before its answer).
 */

import type { CallProgress as Progress } from "./protocol.js";

export class ProgressStream implements AsyncIterable<Progress> {
  private readonly events: Progress[] = [];
  private ended = false;
  private wake: (() => void)[] = [];

  push(event: Progress): void {
    this.events.push(event);
    this.notify();
  }

  end(): void {
    this.ended = true;
    this.notify();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Progress> {
    let next = 0;
    for (;;) {
      if (next < this.events.length) {
        yield this.events[next++] as Progress;
      } else if (this.ended) {
        return;
      } else {
        await new Promise<void>((resolve) => this.wake.push(resolve));
      }
    }
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = [];
    for (const w of wake) w();
  }
}
