import { Code, sqlError } from "./errors.js";
import type { ParamSlot } from "./expr.js";
import type { SqlType } from "./types.js";

/** PostgreSQL's Bind carries an int16 count of parameters. */
export const PARAMS_MAX = 65535;

/**
 * The `$n` of one statement. A simple Query has none (42P02 at any `$n`); a
 * prepared statement starts with the types the client gave in Parse (unknown
 * for oid 0) and grows to the highest `$n` it uses.
 */
export class ParamSlots {
  private readonly slots: ParamSlot[];

  constructor(
    given: readonly SqlType[],
    private readonly allowed: boolean,
  ) {
    this.slots = given.map((type, index) => ({ index, type }));
  }

  static none(): ParamSlots {
    return new ParamSlots([], false);
  }

  /** The slot of `$number` (1-based). */
  slot(number: number, location: number): ParamSlot {
    if (!this.allowed || number < 1 || number > PARAMS_MAX) {
      throw sqlError(Code.undefinedParameter, `there is no parameter $${number}`, location);
    }
    while (this.slots.length < number) this.slots.push({ index: this.slots.length, type: "unknown" });
    return this.slots[number - 1]!;
  }

  /** The final types: a parameter no context typed is text (as `select $1` is in PostgreSQL). */
  resolve(): readonly SqlType[] {
    for (const slot of this.slots) if (slot.type === "unknown") slot.type = "text";
    return this.slots.map((s) => s.type);
  }

  get count(): number {
    return this.slots.length;
  }
}
