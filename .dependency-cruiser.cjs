/** Import boundaries of docs/sourcetree.md, checked in CI (`npm run boundaries`). */
const TEST_FILE = "\\.test\\.ts$";

module.exports = {
  forbidden: [
    {
      name: "common-is-pure",
      comment:
        "services/common is the pure core: no I/O libraries (services/common/observe holds the logging/metrics adapters).",
      severity: "error",
      from: { path: "^services/common", pathNot: `${TEST_FILE}|^services/common/observe/` },
      to: {
        path: "(^|/)node_modules/(level|classic-level|@grpc/|pino|prom-client)|^(node:)?(net|fs|fs/promises|child_process|http|http2|dgram|worker_threads|cluster|os)$",
        dependencyTypesNot: ["type-only"],
      },
    },
    {
      name: "common-imports-no-service",
      comment: "services/common is shared by every role: it imports none of them.",
      severity: "error",
      from: { path: "^services/common/" },
      to: { path: "^services/(compute|storage|local)/|^services/cli\\.ts$" },
    },
    {
      name: "compute-not-storage",
      comment: "compute reaches storage only over gRPC (proto/).",
      severity: "error",
      from: { path: "^services/compute/" },
      to: { path: "^services/(storage|local)/" },
    },
    {
      name: "storage-not-compute",
      comment: "storage reaches compute and its peers only over gRPC (proto/).",
      severity: "error",
      from: { path: "^services/storage/" },
      to: { path: "^services/(compute|local)/" },
    },
    {
      name: "local-runs-roles-as-processes",
      comment:
        "the local supervisor spawns storage and compute as processes and talks to them over gRPC; it imports neither.",
      severity: "error",
      from: { path: "^services/local/" },
      to: { path: "^services/(compute|storage)/" },
    },
    {
      name: "proto-is-the-contract",
      comment: "proto/ depends on no service.",
      severity: "error",
      from: { path: "^proto/" },
      to: { path: "^services/" },
    },
    {
      name: "services-not-tests-or-benches",
      comment: "shipped code never imports test/ or bench/ (tests and benches may import services).",
      severity: "error",
      from: { path: "^(services|proto)/", pathNot: TEST_FILE },
      to: { path: "^(test|bench)/" },
    },
    {
      name: "services-no-dev-dependencies",
      comment: "shipped code runs with `npm ci --omit=dev`: only dependencies, never devDependencies.",
      severity: "error",
      from: { path: "^(services|proto)/", pathNot: TEST_FILE },
      to: { dependencyTypes: ["npm-dev"], dependencyTypesNot: ["type-only"] },
    },
    { name: "no-circular", severity: "error", from: {}, to: { circular: true } },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "^dist/" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { exportsFields: ["exports"], conditionNames: ["import", "require", "node", "default"] },
  },
};
