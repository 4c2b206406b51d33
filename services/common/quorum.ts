import { assert } from "./assert.js";
import type { GroupId, NodeId } from "./ids.js";
import { INVALID_LSN, type Lsn } from "./lsn.js";
import type { Placement } from "./placement.js";

/**
 * Quorum arithmetic (design section 2), pure: acknowledged SCLs per replica
 * → PGCL per group (the W-th highest SCL of its replicas) → VCL (the lowest
 * PGCL: every record ≤ it is on its write quorum).
 */
export class QuorumTracker {
  private readonly scls: Map<NodeId, Lsn>[]; // per group: node → SCL
  private readonly pgcls: Lsn[];
  private vclCache: Lsn = INVALID_LSN;
  private vclDirty = true;

  constructor(
    private readonly placement: Placement,
    start: Lsn = INVALID_LSN,
  ) {
    this.scls = placement.replicas.map((nodes) => new Map(nodes.map((n) => [n, start])));
    this.pgcls = placement.replicas.map(() => start);
  }

  /** Records that `node` holds every record of `group` up to `scl`. SCLs never go back. */
  ack(node: NodeId, group: GroupId, scl: Lsn): void {
    const replicas = this.scls[group];
    assert(replicas !== undefined, () => `unknown group ${group}`);
    const previous = replicas.get(node);
    if (previous === undefined || scl <= previous) return; // not a replica of this group, or old news
    replicas.set(node, scl);
    const sorted = [...replicas.values()].sort((a, b) => b - a);
    const pgcl = sorted[this.placement.config.writeQuorum - 1]!;
    if (pgcl !== this.pgcls[group]) {
      assert(pgcl > this.pgcls[group]!, "PGCL went back");
      this.pgcls[group] = pgcl;
      this.vclDirty = true;
    }
  }

  scl(node: NodeId, group: GroupId): Lsn {
    return this.scls[group]?.get(node) ?? INVALID_LSN;
  }

  pgcl(group: GroupId): Lsn {
    return this.pgcls[group]!;
  }

  /** Lowest SCL of `group` over all its replicas: below it, every replica has every record. */
  allReplicasLsn(group: GroupId): Lsn {
    let low: Lsn | undefined;
    for (const v of this.scls[group]!.values()) if (low === undefined || v < low) low = v;
    return low ?? INVALID_LSN;
  }

  vcl(): Lsn {
    if (this.vclDirty) {
      let low = this.pgcls[0] ?? INVALID_LSN;
      for (const p of this.pgcls) if (p < low) low = p;
      this.vclCache = low;
      this.vclDirty = false;
    }
    return this.vclCache;
  }
}

/**
 * VDL: the highest consistency point (an LSN that ends an MTR) ≤ VCL.
 * Consistency points are registered in ascending order as MTRs are appended.
 */
export class VdlTracker {
  private readonly pending: Lsn[] = [];
  private head = 0;
  private vdlValue: Lsn;

  constructor(start: Lsn = INVALID_LSN) {
    this.vdlValue = start;
  }

  addConsistencyPoint(cpl: Lsn): void {
    const last = this.pending.length > this.head ? this.pending[this.pending.length - 1]! : this.vdlValue;
    assert(cpl > last, "consistency points must ascend");
    this.pending.push(cpl);
  }

  /** Advances VDL for a new VCL; returns the VDL. */
  advance(vcl: Lsn): Lsn {
    while (this.head < this.pending.length && this.pending[this.head]! <= vcl) {
      this.vdlValue = this.pending[this.head]!;
      this.head++;
    }
    if (this.head > 1024 && this.head * 2 > this.pending.length) {
      this.pending.splice(0, this.head);
      this.head = 0;
    }
    return this.vdlValue;
  }

  vdl(): Lsn {
    return this.vdlValue;
  }
}
