import type { Logger } from "../../common/observe/log.js";
import { BackendWriter } from "./backend-messages.js";
import type { BackendKey, CancelRegistry } from "./cancel-registry.js";
import { type CopyInSource, copyInData, protocolSynchronizationLost } from "./copy-in.js";
import { EngineRaised, ExtendedQuery, type ExtendedQueryLimits } from "./extended-query.js";
import { FramingError, FrontendFramer } from "./framer.js";
import { type FrontendMessage, isExtendedQueryMessage } from "./frontend-messages.js";
import type { CopyFormat, CopyOut, QueryEngine, ResultSink, SessionFactory } from "./query-engine.js";
import { SqlError, SqlState, toSqlError } from "./sql-error.js";
import { type AuthConfig, type Authenticated, Handshake, reportedParameters } from "./startup.js";

/**
 * One client connection, from the first byte to the last: the handshake, then
 * the simple and extended query protocols routed to the engine. Messages are
 * handled strictly one after another; replies collect in one buffer and leave
 * in one write when the input runs dry (or at 64 KiB of rows, or when a
 * ReadyForQuery is ready and the engine is about to make the client wait).
 *
 * Error rules (PostgreSQL's PostgresMain): an error in an extended-protocol
 * message is followed by discarding input until Sync; an error anywhere else
 * by ReadyForQuery; a FATAL one, or a broken stream, by closing.
 */

/** The byte stream under a session: a net.Socket in production, an array in tests. */
export interface Transport {
  write(bytes: Uint8Array): void;
  /** True while written bytes wait for the kernel (socket.writableNeedDrain). */
  readonly congested: boolean;
  /** Resolves when the congestion clears or the connection closes. */
  drained(): Promise<void>;
  /** Close after the pending bytes. */
  end(): void;
  pause(): void;
  resume(): void;
}

export interface SessionOptions extends ExtendedQueryLimits {
  readonly auth: AuthConfig;
  /** Reported as server_version; must begin with a version number. */
  readonly serverVersion: string;
  readonly factory: SessionFactory;
  readonly registry: CancelRegistry;
  readonly connectionsMax: number;
  readonly messageBytesMax: number;
  /** From the first byte to ReadyForQuery (PostgreSQL's authentication_timeout). */
  readonly startupTimeoutMs: number;
  readonly log: Logger;
}

/** Output beyond this is written out in the middle of a result. */
const OUTPUT_FLUSH_BYTES = 64 * 1024;
/** Input beyond this, while a message is being handled, pauses the socket. */
const INPUT_PAUSE_BYTES = 1024 * 1024;

export class Session {
  private readonly framer: FrontendFramer;
  private readonly out = new BackendWriter();
  private readonly handshake: Handshake;
  private readonly sink: ResultSink;
  private state: "handshake" | "starting" | "ready" | "closed" = "handshake";
  private engine: QueryEngine | undefined;
  private extended: ExtendedQuery | undefined;
  private key: BackendKey | undefined;
  private skipTillSync = false;
  private running = false;
  /** An engine call (or the factory) is in flight. */
  private awaiting = false;
  private paused = false;
  private released = false;
  /** A COPY FROM STDIN waits for more input. */
  private inputWaiter: (() => void) | undefined;
  /** A message COPY does not allow arrived: the session ends once the engine call settles. */
  private copyLost = false;
  /** Shutdown asked for: end the session with this error at its next idle point (stopWhenIdle). */
  private stopping: SqlError | undefined;
  /** The last reply ended with ReadyForQuery 'I' and no message was taken since: no transaction, nothing running. */
  private idle = false;
  private readonly startupTimer: NodeJS.Timeout;

  constructor(
    private readonly transport: Transport,
    private readonly options: SessionOptions,
  ) {
    this.framer = new FrontendFramer({ messageBytesMax: options.messageBytesMax });
    this.handshake = new Handshake(options.auth, this.out);
    this.sink = this.resultSink();
    this.startupTimer = setTimeout(() => this.startupTimedOut(), options.startupTimeoutMs);
    this.startupTimer.unref();
  }

  /** Bytes from the client. */
  receive(chunk: Uint8Array): void {
    if (this.state === "closed") return;
    this.framer.push(chunk);
    this.wakeInput();
    if (!this.running) {
      void this.drain();
    } else if (!this.paused && this.framer.bufferedBytes > INPUT_PAUSE_BYTES) {
      this.paused = true;
      this.transport.pause();
    }
  }

  /** The connection is gone (closed by the client, reset, or after our end()). */
  disconnected(): void {
    this.shutdown();
  }

  /** End the session from the server's side (shutdown): send `error` (FATAL) and close. */
  terminate(error: SqlError): void {
    this.fatal(error);
  }

  /**
   * Graceful shutdown: end the session with `error` (FATAL) as soon as it is
   * idle, i.e. right away if it is, else once what runs — a statement, a
   * COMMIT waiting for its quorum, the rest of an open transaction block —
   * has sent its last reply and ReadyForQuery 'I'. Messages already received
   * after that point are not run. The server bounds the wait (terminate).
   */
  stopWhenIdle(error: SqlError): void {
    this.stopping = error;
    if (this.state === "handshake" || this.state === "starting") this.fatal(error);
    else if (!this.running) this.stopIfIdle();
  }

  get processId(): number | undefined {
    return this.key?.processId;
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      while (this.state !== "closed") {
        if (this.stopIfIdle()) break;
        const m = this.nextMessage();
        if (m === undefined) break;
        this.idle = false;
        const pending = this.dispatch(m);
        if (this.out.byteLength >= OUTPUT_FLUSH_BYTES) this.flush();
        if (pending !== undefined) {
          // The client may be waiting for what is already here: do not hold it behind the engine.
          if (this.out.holdsReadyForQuery) this.flush();
          this.awaiting = true;
          try {
            await pending;
          } finally {
            this.awaiting = false;
          }
          if (this.copyLost) this.fatal(protocolSynchronizationLost());
        }
      }
      this.flush();
    } catch (err) {
      // A bug of the wire layer: this connection ends, the process goes on.
      this.options.log.error({ err, processId: this.processId }, "wire session failed");
      this.fatal(new SqlError(SqlState.internalError, "internal error in the wire protocol layer"));
    } finally {
      this.running = false;
      if (this.paused) {
        this.paused = false;
        this.transport.resume();
      }
      if (this.state === "closed") this.release();
    }
  }

  /** Ends the session if a shutdown waits for it and it is idle; true if it did. */
  private stopIfIdle(): boolean {
    if (this.stopping === undefined || !this.idle) return false;
    this.fatal(this.stopping);
    return true;
  }

  private nextMessage(): FrontendMessage | undefined {
    try {
      return this.framer.next();
    } catch (err) {
      if (!(err instanceof FramingError)) throw err;
      this.fatal(err.error);
      return undefined;
    }
  }

  private dispatch(m: FrontendMessage): Promise<void> | undefined {
    if (this.state === "handshake") return this.handshakeStep(m);
    const extended = this.extended!;
    if (this.skipTillSync && m.kind !== "Sync" && m.kind !== "Terminate") return undefined;
    switch (m.kind) {
      case "Query":
        return this.simpleQuery(m.sql);
      case "Parse":
        return this.extendedStep(() => extended.parse(m));
      case "Bind":
        return this.extendedStep(() => extended.bind(m));
      case "Describe":
        return this.extendedStep(() => extended.describe(m));
      case "Execute":
        return this.extendedStep(() => extended.execute(m));
      case "Close":
        return this.extendedStep(() => extended.close(m));
      case "Flush":
        this.flush();
        return undefined;
      case "Sync":
        return this.sync();
      case "Terminate":
        this.shutdown();
        return undefined;
      case "CopyData":
      case "CopyDone":
      case "CopyFail":
        // Outside COPY: the tail of a COPY that failed. PostgreSQL ignores them too.
        return undefined;
      case "FunctionCall":
        this.failed(new SqlError(SqlState.featureNotSupported, "fast-path function calls are not supported"), false);
        return undefined;
      case "Malformed":
        this.failed(m.error, isExtendedQueryMessage(m.of));
        return undefined;
      default:
        this.fatal(new SqlError(SqlState.protocolViolation, `unexpected ${m.kind} after startup`));
        return undefined;
    }
  }

  // ---- handshake ----

  private handshakeStep(m: FrontendMessage): Promise<void> | undefined {
    if (m.kind === "StartupMessage") {
      if (this.options.registry.size >= this.options.connectionsMax) {
        this.fatal(new SqlError(SqlState.tooManyConnections, "sorry, too many clients already"));
        return undefined;
      }
      this.key = this.options.registry.register(() => this.engine?.cancel());
    }
    let step: ReturnType<Handshake["step"]>;
    try {
      step = this.handshake.step(m);
    } catch (err) {
      this.fatal(toSqlError(err));
      return undefined;
    }
    switch (step.kind) {
      case "continue":
        return undefined;
      case "cancel":
        this.options.registry.cancel(step.processId, step.secretKey);
        this.shutdown();
        return undefined;
      case "close":
        this.shutdown();
        return undefined;
      case "authenticated":
        return this.start(step.session);
    }
  }

  private async start(session: Authenticated): Promise<void> {
    this.state = "starting";
    const key = this.key!;
    let engine: QueryEngine;
    try {
      engine = await this.options.factory({ ...session, processId: key.processId });
    } catch (err) {
      this.fatal(this.engineError(err));
      return;
    }
    this.engine = engine;
    if (this.closed) return; // the client left meanwhile; release() closes the engine
    this.extended = new ExtendedQuery(engine, this.out, this.sink, this.options, (err) =>
      this.options.log.warn({ err, processId: key.processId }, "closing a statement or portal failed"),
    );
    clearTimeout(this.startupTimer);
    for (const [name, value] of reportedParameters(this.options.serverVersion, session, engine.reportedParameters)) {
      this.out.parameterStatus(name, value);
    }
    this.out.backendKeyData(key.processId, key.secretKey);
    this.state = "ready";
    this.readyForQuery();
  }

  private startupTimedOut(): void {
    if (this.state !== "handshake" && this.state !== "starting") return;
    this.fatal(new SqlError(SqlState.queryCanceled, "canceling authentication due to timeout"));
  }

  // ---- queries ----

  private async simpleQuery(sql: string): Promise<void> {
    this.extended!.dropUnnamed();
    try {
      await this.engine!.simpleQuery(sql, this.sink);
    } catch (err) {
      this.send(this.engineError(err));
    }
    if (this.copyLost) this.fatal(protocolSynchronizationLost());
    if (this.state !== "closed") this.readyForQuery();
  }

  /** Run an extended-protocol step; on error, report it and discard input until Sync. */
  private extendedStep(step: () => Promise<void> | void): Promise<void> | undefined {
    const onError = (err: unknown): void => {
      if (err instanceof EngineRaised) {
        this.send(this.engineError(err.cause));
        if (this.state !== "closed") this.skipTillSync = true;
      } else {
        this.failed(toSqlError(err), true);
      }
    };
    try {
      return step()?.catch(onError);
    } catch (err) {
      onError(err);
      return undefined;
    }
  }

  private sync(): Promise<void> | undefined {
    this.skipTillSync = false;
    if (this.engine!.sync === undefined) {
      this.readyForQuery();
      return undefined;
    }
    return this.syncEngine();
  }

  private async syncEngine(): Promise<void> {
    try {
      await this.engine!.sync!();
    } catch (err) {
      this.send(this.engineError(err));
    }
    if (this.state !== "closed") this.readyForQuery();
  }

  private readyForQuery(): void {
    const status = this.engine!.transactionStatus();
    if (status === "I" && this.extended!.portalCount > 0) this.extended!.closePortals();
    this.out.readyForQuery(status);
    this.idle = status === "I";
  }

  // ---- errors ----

  /** An error the wire layer raised: the engine hears of it, then the protocol's recovery. */
  private failed(error: SqlError, extendedMessage: boolean): void {
    try {
      this.engine?.statementFailed?.(error);
    } catch (err) {
      this.options.log.warn({ err, processId: this.processId }, "engine.statementFailed threw");
    }
    this.send(error);
    if (this.state === "closed") return;
    if (extendedMessage) this.skipTillSync = true;
    else this.readyForQuery();
  }

  private engineError(err: unknown): SqlError {
    if (!(err instanceof SqlError)) this.options.log.error({ err, processId: this.processId }, "engine failed");
    return toSqlError(err);
  }

  private send(error: SqlError): void {
    if (error.severity === "ERROR") this.out.errorResponse(error);
    else this.fatal(error);
  }

  /** Send a FATAL error and close. */
  private fatal(error: SqlError): void {
    if (this.state === "closed") return;
    this.out.errorResponse(error.severity === "ERROR" ? error.fatal() : error);
    this.shutdown();
  }

  // ---- output and lifetime ----

  private resultSink(): ResultSink {
    const out = this.out;
    return {
      rowDescription: (fields) => out.rowDescription(fields),
      dataRow: (values) => {
        out.dataRow(values);
        if (out.byteLength >= OUTPUT_FLUSH_BYTES) this.flush();
      },
      commandComplete: (tag) => out.commandComplete(tag),
      emptyQuery: () => out.emptyQueryResponse(),
      notice: (notice) => out.noticeResponse(notice),
      parameterStatus: (name, value) => out.parameterStatus(name, value),
      backpressure: () => (this.transport.congested && this.state !== "closed" ? this.transport.drained() : undefined),
      copyIn: (format) => this.copyIn(format),
      copyOut: (format) => this.copyOut(format),
    };
  }

  // ---- COPY ----

  /**
   * COPY FROM STDIN: the engine pulls the client's CopyData straight from the
   * framer while its call is running (the drain loop is parked on that call).
   * Input is read only as fast as the engine asks: past INPUT_PAUSE_BYTES
   * the socket pauses (receive), and it resumes once the framer runs dry.
   */
  private copyIn(format: CopyFormat): AsyncIterable<Uint8Array> {
    this.out.copyInResponse(format);
    this.flush();
    const session = this;
    const source: CopyInSource = {
      next: () => (this.closed ? undefined : this.nextMessage()),
      more: () => this.moreInput(),
      get closed() {
        return session.closed;
      },
      lost: () => {
        this.copyLost = true;
      },
    };
    return copyInData(source);
  }

  private moreInput(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.flush();
    if (this.paused) {
      this.paused = false;
      this.transport.resume();
    }
    return new Promise((resolve) => {
      this.inputWaiter = resolve;
    });
  }

  private wakeInput(): void {
    const waiter = this.inputWaiter;
    this.inputWaiter = undefined;
    waiter?.();
  }

  private copyOut(format: CopyFormat): CopyOut {
    const out = this.out;
    out.copyOutResponse(format);
    return {
      data: (bytes) => {
        out.copyData(bytes);
        if (out.byteLength >= OUTPUT_FLUSH_BYTES) this.flush();
      },
      done: () => out.copyDone(),
    };
  }

  private flush(): void {
    const bytes = this.out.take();
    if (bytes !== undefined && this.state !== "closed") this.transport.write(bytes);
  }

  /** Stop reading, send what is pending, close; the engine is released once no call of it is running. */
  private shutdown(): void {
    if (this.state === "closed") return;
    this.flush();
    this.state = "closed";
    this.wakeInput();
    clearTimeout(this.startupTimer);
    this.transport.end();
    if (this.key !== undefined) this.options.registry.unregister(this.key);
    if (this.awaiting) this.engine?.cancel();
    if (!this.running) this.release();
  }

  /** A method, not a field test: the state changes across awaits, which narrowing cannot see. */
  private get closed(): boolean {
    return this.state === "closed";
  }

  private release(): void {
    if (this.released) return;
    this.released = true;
    const engine = this.engine;
    if (engine === undefined) return;
    this.extended?.closeAll();
    engine
      .close()
      .catch((err: unknown) => this.options.log.warn({ err, processId: this.processId }, "engine.close failed"));
  }
}
