import { assert } from "./assert.js";
import { getU64, setU64, view } from "./bytes.js";
import { PAGE_HEADER_BYTES, PageKind, pageKind } from "./page.js";

/**
 * The control page (relfile 0, block 0): counters reserved in ranges, so a
 * restart skips at most one range and nothing is written per transaction.
 *
 *   24  u64 next_xid_reserved      xids below this may have been handed out
 *   32  u64 next_oid_reserved
 *   40  u64 next_relfile_reserved
 *   48  u64 system_id
 *   56  u32 catalog_version
 */
export const CONTROL_BODY_BYTES = 36;

export interface ControlData {
  readonly nextXidReserved: number;
  readonly nextOidReserved: number;
  readonly nextRelfileReserved: number;
  readonly systemId: number;
  readonly catalogVersion: number;
}

export function encodeControlBody(data: ControlData): Uint8Array {
  const out = new Uint8Array(CONTROL_BODY_BYTES);
  const dv = view(out);
  setU64(dv, 0, data.nextXidReserved);
  setU64(dv, 8, data.nextOidReserved);
  setU64(dv, 16, data.nextRelfileReserved);
  setU64(dv, 24, data.systemId);
  dv.setUint32(32, data.catalogVersion, true);
  return out;
}

export function controlWriteBody(page: Uint8Array, body: Uint8Array): void {
  assert(pageKind(page) === PageKind.Control, "control write on a non-control page");
  assert(body.length === CONTROL_BODY_BYTES, "control body has the wrong size");
  page.set(body, PAGE_HEADER_BYTES);
}

export function readControl(page: Uint8Array): ControlData {
  assert(pageKind(page) === PageKind.Control, "control read on a non-control page");
  const dv = view(page.subarray(PAGE_HEADER_BYTES));
  return {
    nextXidReserved: getU64(dv, 0),
    nextOidReserved: getU64(dv, 8),
    nextRelfileReserved: getU64(dv, 16),
    systemId: getU64(dv, 24),
    catalogVersion: dv.getUint32(32, true),
  };
}
