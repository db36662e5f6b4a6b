// Date is used here, in the test only, as the reference the kernel's formatter must match.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { IsoTimeError, MAX_TIME_MS, formatIso, parseIso, parseIsoLenient } from "../iso-time";

describe("formatIso", () => {
  it.each([
    0,
    1,
    -1,
    951_782_400_000, // 2000-02-29
    4_107_542_400_000, // 2100-03-01
    253_402_300_799_999, // 9999-12-31T23:59:59.999Z
    253_402_300_800_000, // +010000
    -62_167_219_200_000, // 0000-01-01
    -62_167_219_200_001, // -000001-12-31
    MAX_TIME_MS,
    -MAX_TIME_MS,
  ])("matches Date#toISOString at %d", (ms) => {
    expect(formatIso(ms)).toBe(new Date(ms).toISOString());
  });

  it("matches Date#toISOString over the whole range", () => {
    fc.assert(
      fc.property(fc.integer({ min: -MAX_TIME_MS, max: MAX_TIME_MS }), (ms) => {
        expect(formatIso(ms)).toBe(new Date(ms).toISOString());
      }),
      { numRuns: 5000 },
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4_102_444_800_000 }), (ms) => {
        expect(formatIso(ms)).toBe(new Date(ms).toISOString());
      }),
      { numRuns: 5000 },
    );
  });

  it.each([0.5, NaN, Infinity, MAX_TIME_MS + 1, Number.MAX_SAFE_INTEGER + 2])("refuses %s", (ms) => {
    expect(() => formatIso(ms)).toThrow(IsoTimeError);
  });
});

describe("parseIso / parseIsoLenient", () => {
  it("round-trips formatIso", () => {
    fc.assert(
      fc.property(fc.integer({ min: -MAX_TIME_MS, max: MAX_TIME_MS }), (ms) => {
        expect(parseIso(formatIso(ms))).toBe(ms);
      }),
      { numRuns: 3000 },
    );
  });

  it("agrees with Date.parse on what it accepts", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 4_102_444_800_000 }),
        fc.integer({ min: -23 * 60, max: 23 * 60 }),
        fc.integer({ min: 0, max: 3 }),
        (ms, offset, digits) => {
          const local = new Date(ms + offset * 60_000).toISOString();
          const sign = offset < 0 ? "-" : "+";
          const abs = Math.abs(offset);
          const zone = `${sign}${String(Math.floor(abs / 60)).padStart(2, "0")}:${String(abs % 60).padStart(2, "0")}`;
          const frac = digits === 0 ? "" : "." + local.slice(20, 20 + digits);
          const text = local.slice(0, 19) + frac + zone;
          expect(parseIsoLenient(text)).toBe(Date.parse(text));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("the strict parser accepts only the canonical spelling", () => {
    expect(parseIso("2025-01-31T12:00:00.000Z")).toBe(Date.UTC(2025, 0, 31, 12));
    for (const text of [
      "2025-01-31T12:00:00Z",
      "2025-01-31T12:00:00.0Z",
      "2025-01-31T12:00:00.000+00:00",
      "2025-01-31 12:00:00.000Z",
      "2025-1-31T12:00:00.000Z",
      "+002025-01-31T12:00:00.000Z",
      "2025-01-31T12:00:00.000z",
    ]) {
      expect(parseIso(text)).toBeUndefined();
    }
  });

  it.each([
    "2025-02-29T00:00:00Z",
    "2024-02-30T00:00:00Z",
    "2025-13-01T00:00:00Z",
    "2025-00-01T00:00:00Z",
    "2025-01-00T00:00:00Z",
    "2025-01-01T24:00:00Z",
    "2025-01-01T23:60:00Z",
    "2025-01-01T23:59:60Z",
    "2025-01-01T00:00:00.0000Z",
    "2025-01-01T00:00:00+24:00",
    "-000000-01-01T00:00:00.000Z",
    "2025-01-01",
    "",
    " 2025-01-01T00:00:00Z",
  ])("rejects %j", (text) => {
    expect(parseIsoLenient(text)).toBeUndefined();
  });

  it("never throws on garbage", () => {
    fc.assert(
      fc.property(fc.anything(), (v) => {
        expect(() => parseIsoLenient(v)).not.toThrow();
        expect(() => parseIso(v)).not.toThrow();
      }),
    );
  });
});
