/**
 * The buttons that poke the process on view through the ordinary HTTP API: mmap a new region,
 * munmap / mprotect / name the selected VMA, start or stop a busy profile. Results and errno
 * errors go to the status line; the strip itself updates from the mutation events.
 */
import { type Api, ApiError } from './api.js';
import { button, h, select } from './dom.js';
import type { Vma } from './maps-model.js';

const LENGTHS: Record<string, number> = {
  '4 KiB': 0x1000,
  '64 KiB': 0x10000,
  '2 MiB': 0x200000,
  '64 MiB': 0x4000000,
};
const PROTS = ['rw-', 'r--', 'r-x', '---'];
const PROFILES = ['mmap_churn', 'jit', 'malloc', 'thread_stacks'];

export interface ActionsHost {
  pid(): number | null;
  selected(): Vma | null;
  status(text: string, error?: boolean): void;
  /** A new mapping at `addr`: select it once it is drawn. */
  mapped(addr: bigint): void;
  /** The process's activity changed. */
  activityChanged(): void;
}

export class ActionsView {
  private readonly length = select(Object.keys(LENGTHS), '64 KiB', { id: 'mmap-length' });
  private readonly prot = select(PROTS, 'rw-', { id: 'mmap-prot' });
  private readonly newProt = select(PROTS, 'r--', { id: 'mprotect-prot' });
  private readonly name = h('input', { id: 'anon-name', value: 'demo', size: 8, maxlength: 80 });
  private readonly profile = select(PROFILES, 'mmap_churn', { id: 'profile' });

  constructor(
    root: HTMLElement,
    private readonly api: Api,
    private readonly host: ActionsHost,
  ) {
    root.replaceChildren(
      h(
        'span',
        { class: 'group' },
        button('mmap', () => this.mmap(), { id: 'do-mmap' }),
        this.length,
        this.prot,
      ),
      h(
        'span',
        { class: 'group' },
        h('span', { class: 'muted' }, 'selected VMA: '),
        button('munmap', () => this.onSelected('munmap', {}), { id: 'do-munmap' }),
        button('mprotect', () => this.onSelected('mprotect', { prot: this.newProt.value }), {
          id: 'do-mprotect',
        }),
        this.newProt,
        button('name', () => this.onSelected('anon_name', { name: this.name.value || null }), {
          id: 'do-name',
        }),
        this.name,
      ),
      h(
        'span',
        { class: 'group' },
        button('busy', () => this.startProfile(), { id: 'do-busy' }),
        this.profile,
        button('idle', () => this.stopProfile(), { id: 'do-idle' }),
      ),
    );
  }

  private async run(what: string, f: (pid: number) => Promise<string>): Promise<void> {
    const pid = this.host.pid();
    if (pid === null) return;
    try {
      this.host.status(`${what}: ${await f(pid)}`);
    } catch (e) {
      const msg = e instanceof ApiError ? `${e.body.error} (${e.body.message})` : String(e);
      this.host.status(`${what}: ${msg}`, true);
    }
  }

  private mmap(): Promise<void> {
    const length = LENGTHS[this.length.value];
    return this.run('mmap', async (pid) => {
      const r = await this.api.http<{ addr: string }>('POST', `/proc/${pid}/mmap`, {
        length,
        prot: this.prot.value,
        flags: ['private', 'anonymous'],
      });
      this.host.mapped(BigInt(r.addr));
      return r.addr;
    });
  }

  private onSelected(op: string, extra: Record<string, unknown>): Promise<void> {
    const v = this.host.selected();
    if (!v) {
      this.host.status(`${op}: click a VMA first`, true);
      return Promise.resolve();
    }
    const body = { addr: `0x${v.startHex}`, length: `0x${(v.end - v.start).toString(16)}` };
    return this.run(`${op} ${v.startHex}-${v.endHex}`, async (pid) => {
      await this.api.http('POST', `/proc/${pid}/${op}`, { ...body, ...extra });
      return 'ok';
    });
  }

  private startProfile(): Promise<void> {
    return this.run(`busy ${this.profile.value}`, async (pid) => {
      await this.api.http('PUT', `/processes/${pid}/activity`, {
        profile: this.profile.value,
        rate_per_s: 200,
      });
      this.host.activityChanged();
      return 'started (200 calls/s)';
    });
  }

  private stopProfile(): Promise<void> {
    return this.run('idle', async (pid) => {
      await this.api.http('DELETE', `/processes/${pid}/activity`);
      this.host.activityChanged();
      return 'stopped';
    });
  }
}
