import { describe, expect, it } from "vitest";
import { SessionSettings, settingName } from "./settings.js";

const fresh = (startup: [string, string][] = []) => new SessionSettings("15.0 (Sediment)", new Map(startup));

describe("SessionSettings", () => {
  it("knows PostgreSQL's names and defaults, case-insensitively", () => {
    const s = fresh();
    expect(settingName("timezone")).toBe("TimeZone");
    expect(s.get("TIMEZONE")).toBe("UTC");
    expect(s.get("datestyle")).toBe("ISO, MDY");
    expect(() => s.get("no_such_thing")).toThrow(/unrecognized configuration parameter "no_such_thing"/);
  });

  it("takes startup parameters as the session's values", () => {
    const s = fresh([
      ["application_name", "psql"],
      ["client_encoding", "utf8"],
    ]);
    expect(s.get("application_name")).toBe("psql");
    expect(s.get("client_encoding")).toBe("UTF8");
    expect(() => fresh([["client_encoding", "LATIN1"]])).toThrow(/client encodings other than UTF8/);
  });

  it("validates values with PostgreSQL's messages and shows timeouts in the largest exact unit", () => {
    const s = fresh();
    s.set("statement_timeout", "5s", false, false);
    expect(s.get("statement_timeout")).toBe("5s");
    expect(s.raw("statement_timeout")).toBe("5000");
    s.set("statement_timeout", "1500", false, false);
    expect(s.get("statement_timeout")).toBe("1500ms");
    s.set("lock_timeout", "2min", false, false);
    expect(s.get("lock_timeout")).toBe("2min");
    expect(() => s.set("extra_float_digits", "7", false, false)).toThrow(
      '7 is outside the valid range for parameter "extra_float_digits" (-15 .. 3)',
    );
    expect(() => s.set("jit", "maybe", false, false)).toThrow('parameter "jit" requires a Boolean value');
    expect(() => s.set("server_version", "16", false, false)).toThrow(/cannot be changed/);
    expect(() => s.set("statement_timeout", "soon", false, false)).toThrow(/invalid value/);
  });

  it("undoes SETs of a rolled-back transaction and SET LOCAL at any end, reporting changes", () => {
    const s = fresh();
    s.set("application_name", "a", false, false);
    s.transactionEnded(true);
    expect(s.takeReports()).toEqual([["application_name", "a"]]);
    s.set("application_name", "b", false, true);
    s.transactionEnded(false);
    expect(s.get("application_name")).toBe("a");
    expect(s.takeReports()).toEqual([["application_name", "a"]]);
    s.set("extra_float_digits", "3", true, true);
    s.set("search_path", "public", false, true);
    s.transactionEnded(true);
    expect(s.get("extra_float_digits")).toBe("1");
    expect(s.get("search_path")).toBe("public");
    s.set("extra_float_digits", "2", true, false); // SET LOCAL outside a block: no effect
    expect(s.get("extra_float_digits")).toBe("1");
  });

  it("RESET ALL returns every changeable parameter to its default", () => {
    const s = fresh();
    s.set("TimeZone", "Etc/UTC", false, false);
    s.set("extra_float_digits", "3", false, false);
    s.resetAll(false);
    expect(s.get("extra_float_digits")).toBe("1");
    expect(s.all().find(([name]) => name === "TimeZone")?.[1]).toBe("UTC");
  });
});
