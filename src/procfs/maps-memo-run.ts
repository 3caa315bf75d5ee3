/**
 * The pending run of a maps line memo (maps-line-memo.ts): consecutive lines copied from the
 * memo's text are not copied one by one but joined into one range of the text, written into the
 * sink once (`flush`) — or, when the run is the whole chunk and the sink's owner takes chunks as
 * views (`ByteSink.mayLend`), lent to it instead (`lendOrFlush`): the event loop then answers the
 * read with the text itself and pins it while a reply keeps it (maps-memo-columns.ts
 * `writableText`). The x86-64 gate line is kept after the last entry's line (`gate`) so that a
 * file whose lines all stand is one run, the gate's included.
 */
import type { ByteSink, TextLender } from './byte-sink.js';
import { GATE_LINE, writeGateLine } from './maps-line.js';
import { MemoMatch } from './maps-memo-match.js';

export abstract class MemoRun extends MemoMatch implements TextLender {
  // Lines copied and not written yet: text[runSrc, runSrc + runLen) → sink at runDst.
  private runSrc = 0;
  private runDst = 0;
  protected runLen = 0;

  /** Appends text[src, src + len) (joining the pending run when it continues it). */
  protected copyText(sink: ByteSink, src: number, len: number): void {
    sink.reserve(len);
    const dst = sink.length;
    if (this.runLen > 0 && this.runSrc + this.runLen === src && this.runDst + this.runLen === dst) {
      this.runLen += len;
    } else {
      this.flush(sink);
      this.runSrc = src;
      this.runDst = dst;
      this.runLen = len;
    }
    sink.length = dst + len;
  }

  /** The pending run written into the sink (entries are about to move, or the chunk ends). */
  protected flush(sink: ByteSink): void {
    if (this.runLen === 0) return;
    sink.reserve(0);
    sink.bytes.set(this.text.subarray(this.runSrc, this.runSrc + this.runLen), this.runDst);
    this.runLen = 0;
  }

  /**
   * End of a chunk: the pending run lent to the sink when it is the whole chunk and the sink may
   * take it as a view, else written into it.
   */
  protected lendOrFlush(sink: ByteSink): void {
    if (sink.mayLend && this.runLen > 0 && this.runDst === 0 && this.runLen === sink.length) {
      sink.lend(this, this.text, this.runSrc);
      this.runLen = 0;
    } else this.flush(sink);
  }

  /** The bytes from `mark` on are gone (a line that overflowed the chunk), the run's share too. */
  trimRun(mark: number): void {
    if (mark < this.runDst + this.runLen) this.runLen = mark > this.runDst ? mark - this.runDst : 0;
  }

  /**
   * The x86-64 gate line (`[vsyscall]`), after the last VMA's: copied from after the last entry's
   * line, so that a chunk whose lines all stand, the gate's included, is one run. Written there
   * first when the entries changed since (`gateAt` void); where the memo has no room for it,
   * written as the formatter does.
   */
  gate(sink: ByteSink): void {
    const at = this.off[this.n];
    if (this.gateAt !== at) {
      if (!this.reserve(this.n, at + GATE_LINE.length)) {
        writeGateLine(sink);
        return;
      }
      this.writableText().set(GATE_LINE, at);
      this.gateAt = at;
    }
    this.copyText(sink, at, GATE_LINE.length);
  }
}
