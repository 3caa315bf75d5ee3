/** A /ws test client (the ws package over a real loopback socket). */
import { once } from 'node:events';
import WebSocket from 'ws';

/** A client that queues incoming JSON messages and hands them out in order. */
export class Client {
  readonly ws: WebSocket;
  private queue: unknown[] = [];
  private waiters: Array<(m: unknown) => void> = [];
  constructor(url: string) {
    this.ws = new WebSocket(url);
    this.ws.on('message', (data) => {
      const m = JSON.parse(data.toString());
      const w = this.waiters.shift();
      if (w) w(m);
      else this.queue.push(m);
    });
  }
  async open(): Promise<this> {
    await once(this.ws, 'open');
    return this;
  }
  send(m: unknown): void {
    this.ws.send(typeof m === 'string' ? m : JSON.stringify(m));
  }
  next(): Promise<Record<string, unknown>> {
    const m = this.queue.shift();
    if (m !== undefined) return Promise.resolve(m as Record<string, unknown>);
    return new Promise((resolve) => this.waiters.push(resolve as (m: unknown) => void));
  }
  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    const closed = once(this.ws, 'close');
    this.ws.close();
    await closed;
  }
}
