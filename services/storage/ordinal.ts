/**
 * A StatefulSet pod's host name is `<statefulset>-<ordinal>` (sediment-storage-4):
 * that ordinal is the storage node's id, stable across restarts and
 * reschedules, like its volume. This lets one pod template serve every
 * replica without a shell in the image (`--node-id-from-hostname`).
 */
export function nodeIdFromHostname(hostname: string): number {
  const name = hostname.split(".")[0] ?? "";
  const match = /-(0|[1-9]\d{0,8})$/.exec(name);
  if (match === null) {
    throw new Error(
      `cannot take a node id from the host name "${hostname}": expected <name>-<ordinal>, as a StatefulSet pod's`,
    );
  }
  return Number(match[1]);
}
