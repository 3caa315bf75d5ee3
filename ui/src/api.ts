/**
 * The page's only way to the service: HTTP calls and one WebSocket (requests answered by id,
 * mutation events of the process on view). With `--token` the bearer goes on every HTTP call as
 * `Authorization`, and on the WebSocket as the subprotocol `bearer.<base64url(token)>` (browsers
 * cannot set headers there; src/app.ts accepts it).
 */

export interface ErrnoBody {
  error: string;
  errno: number;
  message: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: ErrnoBody,
  ) {
    super(`${body.error}: ${body.message}`);
  }
}

export interface MutationEvent {
  type: 'mutation';
  pid: number;
  op: string;
  args: Record<string, unknown>;
  result: Record<string, unknown>;
}

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void };

function base64url(s: string): string {
  const bytes = new TextEncoder().encode(s);
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export class Api {
  private ws: WebSocket | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private eventPid: number | null = null;
  onEvent: (e: MutationEvent) => void = () => {};
  onConnection: (up: boolean) => void = () => {};

  constructor(private readonly token: string | null) {}

  private headers(body: boolean): Record<string, string> {
    const h: Record<string, string> = {};
    if (this.token) h.authorization = `Bearer ${this.token}`;
    if (body) h['content-type'] = 'application/json';
    return h;
  }

  /** One HTTP call; JSON answers parsed, text answers as a string. Rejects with ApiError. */
  async http<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(path, {
      method,
      headers: this.headers(body !== undefined),
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const type = res.headers.get('content-type') ?? '';
    const data = type.includes('json') ? await res.json() : await res.text();
    if (!res.ok) {
      const e = typeof data === 'object' && data ? (data as ErrnoBody) : null;
      throw new ApiError(res.status, e ?? { error: 'EIO', errno: 5, message: String(data) });
    }
    return data as T;
  }

  /** Opens the WebSocket; resolves once it is open. */
  connect(): Promise<void> {
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
    const protocols = this.token ? ['procfs-sim', `bearer.${base64url(this.token)}`] : undefined;
    const ws = new WebSocket(url, protocols);
    this.ws = ws;
    return new Promise((resolve, reject) => {
      ws.onopen = () => {
        this.onConnection(true);
        if (this.eventPid !== null) this.send({ subscribe: 'events', pid: this.eventPid });
        resolve();
      };
      ws.onerror = () => reject(new Error('WebSocket failed'));
      ws.onclose = () => {
        this.onConnection(false);
        for (const p of this.pending.values()) p.reject(new Error('WebSocket closed'));
        this.pending.clear();
      };
      ws.onmessage = (m) => this.receive(JSON.parse(String(m.data)));
    });
  }

  private send(msg: unknown): void {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(msg));
  }

  private receive(msg: Record<string, unknown>): void {
    if (msg.type === 'mutation') {
      if (msg.pid === this.eventPid) this.onEvent(msg as unknown as MutationEvent);
      return;
    }
    if (typeof msg.id !== 'number') return;
    const p = this.pending.get(msg.id);
    if (!p) return;
    this.pending.delete(msg.id);
    if (msg.error) p.reject(new ApiError(400, msg.error as ErrnoBody));
    else p.resolve(msg.result);
  }

  /** One request over the WebSocket (`{"id","op",…}`), answered by its result. */
  request<T>(op: string, fields: Record<string, unknown>): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      if (this.ws?.readyState !== WebSocket.OPEN) {
        reject(new Error('not connected'));
        return;
      }
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.send({ id, op, ...fields });
    });
  }

  /** Mutation events of `pid` only (the one on view); replaces the previous subscription. */
  watch(pid: number): void {
    this.eventPid = pid;
    this.send({ subscribe: 'events', pid });
  }
}
