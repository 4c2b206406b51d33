import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";

/**
 * `<data-dir>/<role>.pid` holds the pid of the serving process itself (the
 * node process, not a shell or npx), rewritten at each restart and removed
 * when the process is gone. The supervisor's own pid goes to
 * `supervisor.json`, so `*.pid` lists exactly the running roles.
 */
export function pidFilePath(dataDir: string, role: string): string {
  return join(dataDir, `${role}.pid`);
}

function writeAtomically(path: string, text: string): void {
  writeFileSync(`${path}.tmp`, text);
  renameSync(`${path}.tmp`, path);
}

export function writePidFile(path: string, pid: number): void {
  writeAtomically(path, `${pid}\n`);
}

export function readPidFile(path: string): number | undefined {
  if (!existsSync(path)) return undefined;
  const pid = Number(readFileSync(path, "utf8").trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** Removes the pid file if it still names `pid` (a newer process may have rewritten it). */
export function removePidFile(path: string, pid?: number): void {
  if (pid !== undefined && readPidFile(path) !== pid) return;
  rmSync(path, { force: true });
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** argv of a live process from /proc (Linux); undefined elsewhere or when it is gone. */
export function processArgv(pid: number): string[] | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8")
      .split("\0")
      .filter((s) => s.length > 0);
  } catch {
    return undefined;
  }
}

/** True when `pid` is alive and its argv contains every string of `expected` (guards against pid reuse). */
export function isProcessRunning(pid: number, expected: readonly string[]): boolean {
  if (!isAlive(pid)) return false;
  const argv = processArgv(pid);
  return argv !== undefined && expected.every((s) => argv.includes(s));
}

const SupervisorFileSchema = z.object({
  pid: z.number().int().positive(),
  computePort: z.number().int(),
  startedAt: z.string(),
});

export type SupervisorFile = z.infer<typeof SupervisorFileSchema>;

export function supervisorFilePath(dataDir: string): string {
  return join(dataDir, "supervisor.json");
}

export function readSupervisorFile(dataDir: string): SupervisorFile | undefined {
  try {
    const parsed = SupervisorFileSchema.safeParse(JSON.parse(readFileSync(supervisorFilePath(dataDir), "utf8")));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** The supervisor running on `dataDir` right now, if any (its file names a live `local` process). */
export function liveSupervisor(dataDir: string): SupervisorFile | undefined {
  const file = readSupervisorFile(dataDir);
  if (file === undefined || file.pid === process.pid) return undefined;
  return isProcessRunning(file.pid, ["local"]) ? file : undefined;
}

export function writeSupervisorFile(dataDir: string, file: SupervisorFile): void {
  writeAtomically(supervisorFilePath(dataDir), `${JSON.stringify(file, null, 2)}\n`);
}

export function removeSupervisorFile(dataDir: string): void {
  if (readSupervisorFile(dataDir)?.pid === process.pid) rmSync(supervisorFilePath(dataDir), { force: true });
}
