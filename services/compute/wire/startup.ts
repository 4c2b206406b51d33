import type { BackendWriter } from "./backend-messages.js";
import { decodeSaslInitialResponse, decodeUtf8 } from "./frontend-decode.js";
import type { FrontendMessage, StartupMessage } from "./frontend-messages.js";
import {
  SCRAM_MECHANISM,
  type ScramCredentials,
  ScramExchange,
  type ScramStep,
  mockScramCredentials,
  serverNonce,
} from "./scram.js";
import { SqlError, SqlState } from "./sql-error.js";

/**
 * The connection handshake before the session proper, in PostgreSQL's order:
 * startup packet (after any refused SSL/GSS request), protocol negotiation,
 * SCRAM-SHA-256, and only then the checks that would otherwise let a stranger
 * probe the server (does the database exist, are the settings valid).
 * Every failure is a FATAL SqlError.
 */

export interface AuthConfig {
  /** The one role that may log in. */
  readonly user: string;
  /** The one database that exists. */
  readonly database: string;
  /** The role's SCRAM verifier, derived once from SEDIMENT_PASSWORD. */
  readonly credentials: ScramCredentials;
  /** Key of the stable mock salts shown to unknown users. */
  readonly mockSecret: Uint8Array;
  /** Injected for tests; a fresh random nonce by default. */
  readonly serverNonce?: () => string;
}

/** What the client asked for, once it has proven who it is. */
export interface Authenticated {
  readonly user: string;
  readonly database: string;
  readonly parameters: ReadonlyMap<string, string>;
}

export type HandshakeStep =
  | { readonly kind: "continue" }
  | { readonly kind: "cancel"; readonly processId: number; readonly secretKey: number }
  /** The client gave up (Terminate) before authenticating: close quietly. */
  | { readonly kind: "close" }
  | { readonly kind: "authenticated"; readonly session: Authenticated };

const CONTINUE: HandshakeStep = { kind: "continue" };
/** The protocol minor version we speak: 3.0. */
const MINOR_SUPPORTED = 0;
const UTF8_NAMES = new Set(["utf8", "unicode"]);

function fatal(code: string, message: string): SqlError {
  return new SqlError(code, message, { severity: "FATAL" });
}

export class Handshake {
  private state: "startup" | "sasl-initial" | "sasl-final" | "done" = "startup";
  private startup: StartupMessage | undefined;
  private user = "";
  private exchange: ScramExchange | undefined;

  constructor(
    private readonly config: AuthConfig,
    private readonly out: BackendWriter,
  ) {}

  /** Handle one message; replies go into the writer. Throws a FATAL SqlError to end the connection. */
  step(m: FrontendMessage): HandshakeStep {
    switch (m.kind) {
      case "SSLRequest":
      case "GSSENCRequest":
        this.out.encryptionRefused();
        return CONTINUE;
      case "CancelRequest":
        return { kind: "cancel", processId: m.processId, secretKey: m.secretKey };
      case "StartupMessage":
        this.begin(m);
        return CONTINUE;
      case "Terminate":
        return { kind: "close" };
      case "PasswordMessage":
        return this.authenticate(m.data);
      case "Malformed":
        throw m.error.fatal();
      default:
        throw fatal(SqlState.protocolViolation, `expected SASL response, got message type ${m.kind}`);
    }
  }

  private begin(m: StartupMessage): void {
    const user = m.parameters.get("user");
    if (user === undefined || user === "") {
      throw fatal(SqlState.invalidAuthorizationSpecification, "no PostgreSQL user name specified in startup packet");
    }
    const minor = m.protocolVersion & 0xffff;
    const unrecognized = [...m.parameters.keys()].filter((k) => k.startsWith("_pq_."));
    if (minor > MINOR_SUPPORTED || unrecognized.length > 0) {
      this.out.negotiateProtocolVersion(MINOR_SUPPORTED, unrecognized);
    }
    this.startup = m;
    this.user = user;
    const known = user === this.config.user;
    const credentials = known ? this.config.credentials : mockScramCredentials(user, this.config.mockSecret);
    const nonce = (this.config.serverNonce ?? serverNonce)();
    this.exchange = new ScramExchange(credentials, user, nonce, !known);
    this.out.authenticationSasl([SCRAM_MECHANISM]);
    this.state = "sasl-initial";
  }

  private authenticate(data: Uint8Array): HandshakeStep {
    const exchange = this.exchange;
    if (exchange === undefined || (this.state !== "sasl-initial" && this.state !== "sasl-final")) {
      throw fatal(SqlState.protocolViolation, "unexpected password message");
    }
    let step: ScramStep;
    if (this.state === "sasl-initial") {
      const initial = decodeSaslInitialResponse(data);
      if (initial.mechanism !== SCRAM_MECHANISM) {
        throw fatal(SqlState.protocolViolation, "client selected an invalid SASL authentication mechanism");
      }
      if (initial.response === null) throw fatal(SqlState.protocolViolation, "malformed SCRAM message");
      step = exchange.clientFirst(decodeUtf8(initial.response));
      if (!step.ok) throw step.error.fatal();
      this.out.authenticationSaslContinue(step.message);
      this.state = "sasl-final";
      return CONTINUE;
    }
    step = exchange.clientFinal(decodeUtf8(data));
    if (!step.ok) throw step.error.fatal();
    this.out.authenticationSaslFinal(step.message);
    this.out.authenticationOk();
    this.state = "done";
    return { kind: "authenticated", session: this.admitted() };
  }

  /** After authentication, as in InitPostgres: the database, then the startup settings. */
  private admitted(): Authenticated {
    const parameters = this.startup!.parameters;
    const database = parameters.get("database") || this.user;
    if (database !== this.config.database) {
      throw fatal(SqlState.invalidCatalogName, `database "${database}" does not exist`);
    }
    const replication = parameters.get("replication");
    if (replication !== undefined && !["false", "off", "no", "0"].includes(replication.toLowerCase())) {
      throw fatal(SqlState.featureNotSupported, "replication connections are not supported");
    }
    const encoding = parameters.get("client_encoding");
    if (encoding !== undefined && encoding.toLowerCase() !== "auto" && !UTF8_NAMES.has(normalizeEncoding(encoding))) {
      throw fatal(SqlState.invalidParameterValue, `invalid value for parameter "client_encoding": "${encoding}"`);
    }
    return { user: this.user, database, parameters };
  }
}

function normalizeEncoding(name: string): string {
  return name.toLowerCase().replace(/[-_]/g, "");
}

/**
 * The settings PostgreSQL 15 reports at startup (its GUC_REPORT set), with
 * the engine's own values over them. server_version begins with a number:
 * libpq (psql, pgbench) reads the server's version from it.
 */
export function reportedParameters(
  serverVersion: string,
  session: Authenticated,
  engineValues: ReadonlyMap<string, string> | undefined,
): Map<string, string> {
  const reported = new Map<string, string>([
    ["application_name", session.parameters.get("application_name") ?? ""],
    ["client_encoding", "UTF8"],
    ["DateStyle", "ISO, MDY"],
    ["default_transaction_read_only", "off"],
    ["in_hot_standby", "off"],
    ["integer_datetimes", "on"],
    ["IntervalStyle", "postgres"],
    ["is_superuser", "on"],
    ["server_encoding", "UTF8"],
    ["server_version", serverVersion],
    ["session_authorization", session.user],
    ["standard_conforming_strings", "on"],
    ["TimeZone", "UTC"],
  ]);
  for (const [name, value] of engineValues ?? []) reported.set(name, value);
  return reported;
}
