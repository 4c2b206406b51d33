import type { Node, VariableSetStmt, VariableShowStmt } from "libpg-query";
import { notSupported } from "./errors.js";
import { nodeLocation } from "./nodes.js";
import type { SetQuery, ShowQuery } from "./query.js";
import { settingName } from "./settings.js";

/** SET, SET LOCAL, RESET, RESET ALL and SHOW (settings.ts holds the parameters). */

function argText(node: Node): string {
  if ("A_Const" in node) {
    const c = node.A_Const;
    if (c.ival !== undefined) return String(c.ival.ival ?? 0);
    if (c.fval !== undefined) return c.fval.fval ?? "0";
    if (c.sval !== undefined) return c.sval.sval ?? "";
    if (c.boolval !== undefined) return c.boolval.boolval === true ? "on" : "off";
  }
  throw notSupported("this SET value", nodeLocation(node));
}

export function analyzeSet(s: VariableSetStmt): SetQuery {
  const isLocal = s.is_local === true;
  switch (s.kind) {
    case "VAR_SET_VALUE": {
      const name = settingName(s.name ?? "");
      return { kind: "set", tag: "SET", name, value: (s.args ?? []).map(argText).join(", "), isLocal };
    }
    case "VAR_SET_DEFAULT":
    case "VAR_RESET": {
      const tag = s.kind === "VAR_RESET" ? "RESET" : "SET";
      return { kind: "set", tag, name: settingName(s.name ?? ""), value: undefined, isLocal };
    }
    case "VAR_RESET_ALL":
      return { kind: "set", tag: "RESET", name: undefined, value: undefined, isLocal };
    case "VAR_SET_MULTI":
      throw notSupported(`SET ${s.name ?? ""}`, s.location);
    default:
      throw notSupported("SET … FROM CURRENT", s.location);
  }
}

export function analyzeShow(s: VariableShowStmt): ShowQuery {
  const name = s.name ?? "";
  return { kind: "show", name: name.toLowerCase() === "all" ? undefined : settingName(name) };
}
