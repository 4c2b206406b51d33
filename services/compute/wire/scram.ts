import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from "node:crypto";
import { SqlError, SqlState } from "./sql-error.js";

/**
 * SCRAM-SHA-256, server side (RFC 5802, RFC 7677), as PostgreSQL speaks it
 * (auth-scram.c): no channel binding (we offer no TLS, so no -PLUS), no
 * authorization identity, the user name inside the SCRAM message ignored in
 * favour of the startup packet's. The exchange is a value: it takes the
 * server nonce as input, so the RFC 7677 test vector replays it exactly.
 */

export const SCRAM_MECHANISM = "SCRAM-SHA-256";
export const SCRAM_ITERATIONS_DEFAULT = 4096;
const SALT_BYTES = 16;
const KEY_BYTES = 32;
/** Nonce bytes before base64, as PostgreSQL's SCRAM_RAW_NONCE_LEN. */
export const SERVER_NONCE_BYTES = 18;

/** What the server keeps instead of the password (PostgreSQL's rolpassword verifier). */
export interface ScramCredentials {
  readonly iterations: number;
  readonly salt: Buffer;
  readonly storedKey: Buffer;
  readonly serverKey: Buffer;
}

const hmac = (key: Uint8Array, data: string | Uint8Array): Buffer => createHmac("sha256", key).update(data).digest();
const sha256 = (data: Uint8Array): Buffer => createHash("sha256").update(data).digest();

/**
 * RFC 4013 SASLprep, reduced to the steps that change bytes (as libpq and
 * node-postgres apply them): non-ASCII spaces to U+0020, "mapped to nothing"
 * characters removed, NFKC.
 */
export function saslPrep(password: string): string {
  // biome-ignore lint/suspicious/noMisleadingCharacterClass: RFC 3454 table B.1 lists joiners and variation selectors on purpose.
  const mappedToNothing = /[\u00AD\u034F\u1806\u180B\u180C\u180D\u200C\u200D\u2060\uFE00-\uFE0F\uFEFF]/g;
  return password
    .replace(/[\u00A0\u1680\u2000-\u200B\u202F\u205F\u3000]/g, " ")
    .replace(mappedToNothing, "")
    .normalize("NFKC");
}

/** Derive the verifier once, at startup: PBKDF2 over 4096 rounds costs milliseconds. */
export function scramCredentials(
  password: string,
  salt: Uint8Array = randomBytes(SALT_BYTES),
  iterations = SCRAM_ITERATIONS_DEFAULT,
): ScramCredentials {
  const saltedPassword = pbkdf2Sync(saslPrep(password), salt, iterations, KEY_BYTES, "sha256");
  return {
    iterations,
    salt: Buffer.from(salt),
    storedKey: sha256(hmac(saltedPassword, "Client Key")),
    serverKey: hmac(saltedPassword, "Server Key"),
  };
}

/**
 * Credentials for a user that does not exist: the exchange runs to its end
 * and fails there, with a salt stable per user name, so a client cannot tell
 * unknown users from wrong passwords (PostgreSQL's mock authentication).
 */
export function mockScramCredentials(user: string, serverSecret: Uint8Array): ScramCredentials {
  return {
    iterations: SCRAM_ITERATIONS_DEFAULT,
    salt: hmac(serverSecret, user).subarray(0, SALT_BYTES),
    storedKey: randomBytes(KEY_BYTES),
    serverKey: randomBytes(KEY_BYTES),
  };
}

export type ScramStep =
  | { readonly ok: true; readonly message: string }
  | { readonly ok: false; readonly error: SqlError };

function malformed(detail: string): ScramStep {
  return { ok: false, error: new SqlError(SqlState.protocolViolation, "malformed SCRAM message", { detail }) };
}

/** A cursor over `attr=value,attr=value` (RFC 5802 section 5.1). */
class Attributes {
  private offset = 0;
  constructor(readonly text: string) {}

  get done(): boolean {
    return this.offset >= this.text.length;
  }

  get position(): number {
    return this.offset;
  }

  peekName(): string | undefined {
    return this.text[this.offset];
  }

  /** The value of attribute `name` and the separator after it; undefined when the next attribute is another. */
  read(name: string): string | undefined {
    if (this.text[this.offset] !== name || this.text[this.offset + 1] !== "=") return undefined;
    const end = this.text.indexOf(",", this.offset + 2);
    const stop = end < 0 ? this.text.length : end;
    const value = this.text.slice(this.offset + 2, stop);
    this.offset = end < 0 ? stop : end + 1;
    return value;
  }
}

const PRINTABLE_NONCE = /^[\x21-\x2b\x2d-\x7e]+$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

type State =
  | { readonly step: "initial" }
  | { readonly step: "final"; readonly gs2Header: string; readonly nonce: string; readonly authPrefix: string }
  | { readonly step: "done" };

/** One SCRAM exchange: clientFirst → server-first-message, clientFinal → server-final-message. */
export class ScramExchange {
  private state: State = { step: "initial" };

  /**
   * @param user the startup packet's user, for the error message
   * @param serverNonce printable, no ',' (base64 of 18 random bytes in production)
   * @param mock true for an unknown user: the exchange always fails at the end
   */
  constructor(
    private readonly credentials: ScramCredentials,
    private readonly user: string,
    private readonly serverNonce: string,
    private readonly mock = false,
  ) {
    if (!PRINTABLE_NONCE.test(serverNonce)) throw new RangeError("server nonce must be printable ASCII without ','");
  }

  /** client-first-message (the SASLInitialResponse data) → server-first-message. */
  clientFirst(message: string): ScramStep {
    if (this.state.step !== "initial") return malformed("The client-first-message arrived twice.");
    const flag = message[0];
    if (flag === "p") {
      return malformed(
        "The client selected SCRAM-SHA-256 without channel binding, but the SCRAM message includes channel binding data.",
      );
    }
    if ((flag !== "n" && flag !== "y") || message[1] !== ",") {
      return malformed(`Unexpected channel-binding flag "${flag ?? ""}".`);
    }
    if (message[2] === "a") {
      return {
        ok: false,
        error: new SqlError(
          SqlState.featureNotSupported,
          "client uses authorization identity, but it is not supported",
        ),
      };
    }
    if (message[2] !== ",") return malformed("Unexpected attribute in client-first-message.");
    const gs2Header = message.slice(0, 3);
    const bare = message.slice(3);
    const attrs = new Attributes(bare);
    if (attrs.peekName() === "m") {
      return {
        ok: false,
        error: new SqlError(SqlState.featureNotSupported, "client requires an unsupported SCRAM extension"),
      };
    }
    if (attrs.read("n") === undefined) return malformed('Expected attribute "n" in client-first-message.');
    const clientNonce = attrs.read("r");
    if (clientNonce === undefined) return malformed('Expected attribute "r" in client-first-message.');
    if (!PRINTABLE_NONCE.test(clientNonce)) return malformed("The client nonce contains invalid characters.");
    const nonce = clientNonce + this.serverNonce;
    const serverFirst = `r=${nonce},s=${this.credentials.salt.toString("base64")},i=${this.credentials.iterations}`;
    this.state = { step: "final", gs2Header, nonce, authPrefix: `${bare},${serverFirst},` };
    return { ok: true, message: serverFirst };
  }

  /** client-final-message (the SASLResponse data) → server-final-message, or 28P01. */
  clientFinal(message: string): ScramStep {
    const state = this.state;
    if (state.step !== "final") return malformed("The client-final-message arrived out of order.");
    this.state = { step: "done" };
    const attrs = new Attributes(message);
    const channelBinding = attrs.read("c");
    if (channelBinding === undefined) return malformed('Expected attribute "c" in client-final-message.');
    if (!BASE64.test(channelBinding) || Buffer.from(channelBinding, "base64").toString("latin1") !== state.gs2Header) {
      return malformed("Unexpected SCRAM channel-binding attribute in client-final-message.");
    }
    const nonce = attrs.read("r");
    if (nonce === undefined) return malformed('Expected attribute "r" in client-final-message.');
    if (nonce !== state.nonce) return malformed("SCRAM nonce mismatch.");
    let withoutProof = attrs.position;
    while (!attrs.done && attrs.peekName() !== "p") {
      const name = attrs.peekName()!;
      if (attrs.read(name) === undefined) return malformed("Malformed extension attribute in client-final-message.");
      withoutProof = attrs.position;
    }
    const proofText = attrs.read("p");
    if (proofText === undefined || !attrs.done)
      return malformed('Expected attribute "p" at the end of client-final-message.');
    if (!BASE64.test(proofText)) return malformed("Malformed proof in client-final-message.");
    const proof = Buffer.from(proofText, "base64");
    if (proof.length !== KEY_BYTES) return malformed("Malformed proof in client-final-message.");

    const authMessage = state.authPrefix + message.slice(0, Math.max(0, withoutProof - 1));
    const clientSignature = hmac(this.credentials.storedKey, authMessage);
    const clientKey = Buffer.alloc(KEY_BYTES);
    for (let i = 0; i < KEY_BYTES; i++) clientKey[i] = proof[i]! ^ clientSignature[i]!;
    const verified = timingSafeEqual(sha256(clientKey), this.credentials.storedKey);
    if (!verified || this.mock) {
      return {
        ok: false,
        error: new SqlError(SqlState.invalidPassword, `password authentication failed for user "${this.user}"`),
      };
    }
    return { ok: true, message: `v=${hmac(this.credentials.serverKey, authMessage).toString("base64")}` };
  }
}

/** A fresh server nonce. */
export function serverNonce(): string {
  return randomBytes(SERVER_NONCE_BYTES).toString("base64");
}
