/** Import boundaries of docs/sourcetree.md, checked in CI. */
module.exports = {
  forbidden: [
    {
      name: "common-is-pure",
      comment: "services/common is the pure core: no I/O libraries.",
      severity: "error",
      from: { path: "^services/common", pathNot: "\\.test\\.ts$|^services/common/observe/" },
      to: { path: "(^|/)node_modules/(level|classic-level|@grpc/|pino|prom-client)|^(net|fs|fs/promises|child_process|http|http2|dgram)$|^node:(net|fs|fs/promises|child_process|http|http2|dgram)$", dependencyTypesNot: ["type-only"] },
    },
    {
      name: "common-imports-no-service",
      severity: "error",
      from: { path: "^services/common" },
      to: { path: "^services/(compute|storage)/" },
    },
    {
      name: "compute-not-storage",
      severity: "error",
      from: { path: "^services/compute/" },
      to: { path: "^services/storage/" },
    },
    {
      name: "storage-not-compute",
      severity: "error",
      from: { path: "^services/storage/" },
      to: { path: "^services/compute/" },
    },
    { name: "no-circular", severity: "error", from: {}, to: { circular: true } },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { exportsFields: ["exports"], conditionNames: ["import", "require", "node", "default"] },
  },
};
