import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import type { Logger } from "../common/observe/log.js";
import { type BackoffPolicy, RestartBackoff } from "./backoff.js";
import { removePidFile, writePidFile } from "./pid-files.js";
import type { Role } from "./roles.js";

export interface SupervisedProcessOptions {
  readonly cliPath: string;
  readonly pidFile: string;
  readonly logFile: string;
  readonly backoff: BackoffPolicy;
  readonly log: Logger;
  /** One human line (restarts, give-ups). */
  readonly say: (line: string) => void;
}

/**
 * One role's process, kept running like a kubelet keeps a container: spawned
 * as `node cli.js <args>` (so the child pid is the server itself), stdout and
 * stderr appended to its log file, restarted with backoff whenever it exits,
 * until `stop`. Children stay in the supervisor's process group, so a signal
 * to the whole job (Ctrl-C, `kill %1`, `kill -- -pgid`) reaches them too.
 */
export class SupervisedProcess {
  private child: ChildProcess | undefined;
  private startedAt = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  private stopping = false;
  private exited: Promise<void> = Promise.resolve();
  private readonly backoff: RestartBackoff;
  restarts = 0;

  constructor(
    readonly role: Role,
    private readonly options: SupervisedProcessOptions,
  ) {
    this.backoff = new RestartBackoff(options.backoff);
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  start(): void {
    if (this.stopping || this.child !== undefined) return;
    const { role, options } = this;
    this.startedAt = Date.now();
    let fd: number;
    try {
      fd = openSync(options.logFile, "a");
    } catch (err) {
      this.onExit(undefined, null, null, err as Error); // counts as a failed start: retried with backoff
      return;
    }
    let child: ChildProcess;
    try {
      child = spawn(process.execPath, [options.cliPath, ...role.args], {
        stdio: ["ignore", fd, fd],
        env: { ...process.env, ...role.env },
      });
    } finally {
      closeSync(fd);
    }
    this.child = child;
    let resolveExited: () => void = () => {};
    this.exited = new Promise((resolve) => {
      resolveExited = resolve;
    });
    if (child.pid !== undefined) {
      writePidFile(options.pidFile, child.pid);
      options.log.info({ role: role.name, childPid: child.pid, restarts: this.restarts }, "child started");
    }
    let done = false;
    const onGone = (code: number | null, signal: NodeJS.Signals | null, error?: Error): void => {
      if (done) return;
      done = true;
      if (child.pid !== undefined) removePidFile(options.pidFile, child.pid);
      this.child = undefined;
      resolveExited();
      this.onExit(child.pid, code, signal, error);
    };
    child.once("exit", (code, signal) => onGone(code, signal));
    child.on("error", (err) => {
      // Spawn failures have no pid and no "exit"; other errors (a failed kill) leave the child running.
      if (child.pid === undefined) onGone(null, null, err);
      else options.log.error({ role: role.name, childPid: child.pid, err: err.message }, "child process error");
    });
  }

  private onExit(pid: number | undefined, code: number | null, signal: NodeJS.Signals | null, error?: Error): void {
    const { role, options } = this;
    const uptimeMs = Date.now() - this.startedAt;
    if (this.stopping) {
      options.log.info({ role: role.name, childPid: pid, code, signal, uptimeMs }, "child stopped");
      return;
    }
    const final = code !== null ? role.finalExitCodes.get(code) : undefined;
    if (final !== undefined) {
      options.log.warn({ role: role.name, childPid: pid, code, uptimeMs }, `child exited: ${final}; not restarting`);
      options.say(
        `${role.name} (pid ${pid ?? "?"}) exited with code ${code}: ${final}; not restarting it ` +
          `(restart \`sediment local\` to bring it back)`,
      );
      return;
    }
    const delayMs = this.backoff.nextDelayMs(uptimeMs);
    this.restarts++;
    const how =
      error !== undefined
        ? `failed to start (${error.message})`
        : signal
          ? `killed by ${signal}`
          : `exited with code ${code}`;
    options.log.warn(
      { role: role.name, childPid: pid, code, signal, err: error?.message, uptimeMs, delayMs, restarts: this.restarts },
      "child exited; restarting",
    );
    options.say(
      `${role.name} (pid ${pid ?? "?"}) ${how} after ${(uptimeMs / 1000).toFixed(1)} s; ` +
        `restart #${this.restarts} in ${delayMs} ms (log: ${options.logFile})`,
    );
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      this.start();
    }, delayMs);
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. No restart after this. */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    if (this.restartTimer !== undefined) clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    if (this.child === undefined) return;
    this.signal("SIGTERM");
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), graceMs);
    });
    const exited = this.exited.then(() => false);
    if (await Promise.race([exited, timedOut])) {
      this.options.log.warn({ role: this.role.name, childPid: this.pid, graceMs }, "child ignored SIGTERM; killing it");
      this.signal("SIGKILL");
      await exited;
    }
    clearTimeout(timer);
  }

  signal(signal: NodeJS.Signals): void {
    this.child?.kill(signal);
  }
}
