import { createRequire } from "node:module";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  ScramExchange,
  type ScramStep,
  mockScramCredentials,
  saslPrep,
  scramCredentials,
  serverNonce,
} from "./scram.js";

/** node-postgres's own client side of SCRAM (pg/lib/crypto/sasl.js): an independent implementation. */
interface PgSaslSession {
  response: string;
}
const pgSasl = createRequire(import.meta.url)("pg/lib/crypto/sasl.js") as {
  startSession(mechanisms: string[], stream?: unknown): PgSaslSession;
  continueSession(session: PgSaslSession, password: string, serverData: string, stream?: unknown): Promise<void>;
  finalizeSession(session: PgSaslSession, serverData: string): void;
};

function message(step: ScramStep): string {
  if (!step.ok) throw step.error;
  return step.message;
}

describe("SCRAM-SHA-256", () => {
  it("replays the RFC 7677 test vector", () => {
    const credentials = scramCredentials("pencil", Buffer.from("W22ZaJ0SNY7soEsUEjb6gQ==", "base64"), 4096);
    const exchange = new ScramExchange(credentials, "user", "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0");
    expect(message(exchange.clientFirst("n,,n=user,r=rOprNGfwEbeRWgbNEkqO"))).toBe(
      "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
    );
    const final = exchange.clientFinal(
      "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
    );
    expect(message(final)).toBe("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
  });

  async function withPgClient(serverPassword: string, clientPassword: string, mock = false): Promise<ScramStep> {
    const credentials = scramCredentials(serverPassword);
    const exchange = new ScramExchange(credentials, "postgres", serverNonce(), mock);
    const session = pgSasl.startSession(["SCRAM-SHA-256"]);
    const serverFirst = message(exchange.clientFirst(session.response));
    await pgSasl.continueSession(session, clientPassword, serverFirst);
    const final = exchange.clientFinal(session.response);
    if (final.ok) pgSasl.finalizeSession(session, final.message); // the client checks our signature
    return final;
  }

  it("authenticates node-postgres's client, which verifies our server signature", async () => {
    expect((await withPgClient("s3cret", "s3cret")).ok).toBe(true);
    expect((await withPgClient("pässwörd ﬁ", "pässwörd ﬁ")).ok).toBe(true);
  });

  it("fails a wrong password with 28P01 and PostgreSQL's words", async () => {
    const step = await withPgClient("s3cret", "guess");
    expect(step).toMatchObject({
      ok: false,
      error: { code: "28P01", message: 'password authentication failed for user "postgres"' },
    });
  });

  it("fails a mocked (unknown) user even with the right password", async () => {
    expect(await withPgClient("s3cret", "s3cret", true)).toMatchObject({ ok: false, error: { code: "28P01" } });
  });

  it("shows an unknown user a salt that is stable, as a real user's is", () => {
    const secret = Buffer.from("server secret");
    expect(mockScramCredentials("mallory", secret).salt).toEqual(mockScramCredentials("mallory", secret).salt);
    expect(mockScramCredentials("mallory", secret).salt).not.toEqual(mockScramCredentials("eve", secret).salt);
  });

  it("accepts the 'y' flag (client could bind, thinks we cannot)", () => {
    const exchange = new ScramExchange(scramCredentials("x"), "postgres", "srv");
    message(exchange.clientFirst("y,,n=*,r=cli"));
    const step = exchange.clientFinal("c=eSws,r=clisrv,p=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
    expect(step).toMatchObject({ ok: false, error: { code: "28P01" } }); // got past the channel-binding check
  });

  const firstCases: [string, string, string][] = [
    ["channel binding required", "p=tls-server-end-point,,n=*,r=abc", "08P01"],
    ["an authorization identity", "n,a=admin,n=*,r=abc", "0A000"],
    ["a mandatory extension", "n,,m=ext,n=*,r=abc", "0A000"],
    ["no nonce", "n,,n=*", "08P01"],
    ["an empty nonce", "n,,n=*,r=", "08P01"],
    ["a bad flag", "x,,n=*,r=abc", "08P01"],
    ["nothing", "", "08P01"],
  ];
  for (const [what, first, code] of firstCases) {
    it(`rejects a client-first-message with ${what}`, () => {
      const exchange = new ScramExchange(scramCredentials("x"), "postgres", "srv");
      expect(exchange.clientFirst(first)).toMatchObject({ ok: false, error: { code } });
    });
  }

  const finalCases: [string, string][] = [
    ["another channel binding", "c=eSws,r=abcsrv,p=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="],
    ["another nonce", "c=biws,r=abcXXX,p=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="],
    ["a short proof", "c=biws,r=abcsrv,p=AAAA"],
    ["no proof", "c=biws,r=abcsrv"],
    ["a proof that is not base64", "c=biws,r=abcsrv,p=!!!"],
    ["attributes after the proof", "c=biws,r=abcsrv,p=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=,x=1"],
  ];
  for (const [what, final] of finalCases) {
    it(`rejects a client-final-message with ${what} as malformed (08P01)`, () => {
      const exchange = new ScramExchange(scramCredentials("x"), "postgres", "srv");
      message(exchange.clientFirst("n,,n=*,r=abc"));
      expect(exchange.clientFinal(final)).toMatchObject({ ok: false, error: { code: "08P01" } });
    });
  }

  it("rejects messages out of order", () => {
    const exchange = new ScramExchange(scramCredentials("x"), "postgres", "srv");
    expect(exchange.clientFinal("c=biws,r=abc,p=AAAA").ok).toBe(false);
    message(exchange.clientFirst("n,,n=*,r=abc"));
    expect(exchange.clientFirst("n,,n=*,r=abc").ok).toBe(false);
  });

  it("answers any client text with a step, never an exception", () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (first, final) => {
        const exchange = new ScramExchange(scramCredentials("x", Buffer.alloc(16), 1), "postgres", "srv");
        exchange.clientFirst(first);
        expect(exchange.clientFinal(final).ok).toBe(false);
      }),
    );
  });

  it("SASLprep maps spaces, drops soft hyphens, applies NFKC", () => {
    expect(saslPrep("I\u00ADX")).toBe("IX");
    expect(saslPrep("a\u00A0b")).toBe("a b");
    expect(saslPrep("\uFB01")).toBe("fi");
    expect(saslPrep("plain")).toBe("plain");
  });
});
