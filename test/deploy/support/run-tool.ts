/** Running a command-line tool from a test: exit code and output, never a rejection. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { REPO_ROOT } from './repo-root.js';

const run = promisify(execFile);

export async function runTool(
  command: string,
  args: readonly string[],
): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run(command, args, { cwd: REPO_ROOT });
    return { code: 0, output: `${stdout}${stderr}` };
  } catch (err) {
    const e = err as { code?: number | string; stdout?: string; stderr?: string; message: string };
    // A string code (ENOENT) means the tool could not be started at all.
    const code = typeof e.code === 'number' ? e.code : -1;
    return { code, output: `${e.stdout ?? ''}${e.stderr ?? ''}${code === -1 ? e.message : ''}` };
  }
}
