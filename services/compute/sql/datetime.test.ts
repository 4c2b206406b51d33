import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  TIMESTAMP_NOBEGIN,
  TIMESTAMP_NOEND,
  UTC,
  date2j,
  fixedZone,
  formatDate,
  formatTimestamp,
  formatTimestamptz,
  j2date,
  roundTimestamp,
} from "./datetime.js";
import { parseDate, parseTimestamp } from "./datetime-parse.js";

/** PostgreSQL's MIN_TIMESTAMP (4714-11-24 00:00:00 BC) and END_TIMESTAMP (294277-01-01, exclusive). */
const MIN = -211813488000000000n;
const END = 9223371331200000000n;
const timestamps = fc.bigInt({ min: MIN, max: END - 1n });
const zones = fc.integer({ min: -15 * 3600 + 1, max: 15 * 3600 - 1 }).map((s) => fixedZone(`fixed ${s}`, s));

describe("timestamp text I/O", () => {
  it("prints PostgreSQL's ISO forms", () => {
    const t = (s: string) => parseTimestamp("timestamp", s, UTC);
    expect(formatTimestamp(t("2026-11-26 12:34:56.123456"))).toBe("2026-11-26 12:34:56.123456");
    expect(formatTimestamp(t("2026-11-26 12:34:56.120"))).toBe("2026-11-26 12:34:56.12");
    expect(formatTimestamp(t("2026-11-26"))).toBe("2026-11-26 00:00:00");
    expect(formatTimestamp(t("2000-01-01"))).toBe("2000-01-01 00:00:00");
    expect(t("2000-01-01")).toBe(0n);
    expect(formatTimestamp(t("0001-01-01 00:00:00 BC"))).toBe("0001-01-01 00:00:00 BC");
    expect(formatTimestamp(t("2026-01-01T12:00:00.5+02"))).toBe("2026-01-01 12:00:00.5");
    expect(formatTimestamp(TIMESTAMP_NOEND)).toBe("infinity");
    expect(formatTimestamp(TIMESTAMP_NOBEGIN)).toBe("-infinity");
    expect(formatTimestamp(t("epoch"))).toBe("1970-01-01 00:00:00");
  });

  it("reads offsets into timestamptz and prints them in the session zone", () => {
    const tz = (s: string) => parseTimestamp("timestamptz", s, UTC);
    expect(formatTimestamptz(tz("2026-01-01 12:00+02"), UTC)).toBe("2026-01-01 10:00:00+00");
    expect(formatTimestamptz(tz("2026-01-01 12:00:00Z"), fixedZone("x", 5 * 3600 + 1800))).toBe(
      "2026-01-01 17:30:00+05:30",
    );
    expect(formatTimestamptz(tz("2026-01-01 12:00:00-05:30:10"), UTC)).toBe("2026-01-01 17:30:10+00");
    expect(formatTimestamptz(tz("2026-01-01 12:00:00 utc"), fixedZone("x", -3600))).toBe("2026-01-01 11:00:00-01");
  });

  it("fails as PostgreSQL does", () => {
    const fails = (s: string, type: "timestamp" | "timestamptz" = "timestamp") => {
      try {
        parseTimestamp(type, s, UTC);
      } catch (e) {
        const err = e as { code: string; message: string };
        return [err.code, err.message];
      }
      return undefined;
    };
    expect(fails("foo")).toEqual(["22007", 'invalid input syntax for type timestamp: "foo"']);
    expect(fails("foo", "timestamptz")).toEqual([
      "22007",
      'invalid input syntax for type timestamp with time zone: "foo"',
    ]);
    expect(fails("2026-13-01")).toEqual(["22008", 'date/time field value out of range: "2026-13-01"']);
    expect(fails("2026-02-29")).toEqual(["22008", 'date/time field value out of range: "2026-02-29"']);
    expect(fails("2024-02-29")).toBeUndefined();
    expect(fails("2026-01-01 24:00:01")?.[0]).toBe("22008");
    expect(fails("2026-01-01 12:00+16", "timestamptz")?.[0]).toBe("22009");
    expect(fails("294277-01-01")).toEqual(["22008", 'timestamp out of range: "294277-01-01"']);
  });

  it("round-trips every timestamp through text", () => {
    fc.assert(
      fc.property(timestamps, (t) => {
        expect(parseTimestamp("timestamp", formatTimestamp(t), UTC)).toBe(t);
      }),
    );
  });

  it("round-trips every timestamptz through text in any fixed zone", () => {
    fc.assert(
      fc.property(timestamps, zones, (t, zone) => {
        const local = t + BigInt(zone.offsetSecondsAt(t)) * 1_000_000n;
        fc.pre(local >= MIN && local < END);
        expect(parseTimestamp("timestamptz", formatTimestamptz(t, zone), UTC)).toBe(t);
      }),
    );
  });

  it("keeps text order and value order the same within AD years of four digits", () => {
    const ad = fc.bigInt({ min: -63082281600000000n, max: 252455615999999999n }); // 0001-01-01 … 9999-12-31
    fc.assert(
      fc.property(ad, ad, (a, b) => {
        const [x, y] = [formatTimestamp(a), formatTimestamp(b)];
        expect(Math.sign(x < y ? -1 : x > y ? 1 : 0)).toBe(a < b ? -1 : a > b ? 1 : 0);
      }),
    );
  });

  it("rounds to a precision half away from zero", () => {
    expect(roundTimestamp(1_234_500n, 3)).toBe(1_235_000n);
    expect(roundTimestamp(-1_234_500n, 3)).toBe(-1_235_000n);
    expect(roundTimestamp(1_500_000n, 0)).toBe(2_000_000n);
    expect(roundTimestamp(TIMESTAMP_NOEND, 0)).toBe(TIMESTAMP_NOEND);
  });
});

describe("date", () => {
  it("is the inverse of j2date", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2147483493 }), (jd) => {
        const [y, m, d] = j2date(jd);
        expect(date2j(y, m, d)).toBe(jd);
      }),
    );
  });

  it("round-trips through text", () => {
    fc.assert(
      fc.property(fc.integer({ min: -2451545, max: 2147483493 - 2451545 }), (days) => {
        expect(parseDate(formatDate(days))).toBe(days);
      }),
    );
    expect(formatDate(parseDate("2026-11-26 12:00"))).toBe("2026-11-26");
    expect(formatDate(parseDate("0044-03-15 BC"))).toBe("0044-03-15 BC");
  });
});
