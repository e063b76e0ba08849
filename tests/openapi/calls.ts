// Every call of /work/shared/design/api.md that the service has today, made through a client generated from the
// OpenAPI document (openapi-typescript for the types, openapi-fetch for the calls). deploy/lint-openapi.sh
// type-checks it (tsc --noEmit): if the document stops describing a call, a parameter, a header or an answer
// the way api.md gives it, this stops compiling. It is never run.
import createClient from "openapi-fetch";
import type { components, paths } from "./generated/api";

type Schemas = components["schemas"];
type StatisticsQuery = NonNullable<paths["/api/v1/statistics"]["get"]["parameters"]["query"]>;

const client = createClient<paths>({ baseUrl: "http://localhost:5080", headers: { "X-Api-Key": "dev-admin-key" } });

const patrol: Schemas["ActivityRequest"] = {
  externalId: "mlt-2024-tt-0412",
  kind: "patrol",
  unitId: "don-ma-lu-thang",
  partnerUnitIds: ["huoi-luong"],
  occurredOn: "2024-04-12",
  location: { communeId: "huoi-luong", placeName: "Khu vực cửa khẩu Ma Lù Thàng", markers: ["79", "80"] },
  summary: "Phối hợp tuần tra đường biên.",
  details: { mode: "joint", patrols: 1, patrolParticipants: 8 },
};

/** A problem document's fields, as every error of the API has them. */
function explain(problem: Schemas["ProblemDetails"] | Schemas["HttpValidationProblemDetails"]): string {
  const errors = "errors" in problem && problem.errors ? Object.keys(problem.errors).join(", ") : "";
  return `${problem.status ?? ""} ${problem.title ?? ""}: ${problem.detail ?? ""} ${errors}`;
}

export async function activities(): Promise<void> {
  // POST /api/v1/activities: 201 + Location + {activityId, version}; 200 for the same externalId and content; 409; 400.
  const created = await client.POST("/api/v1/activities", { body: patrol });
  if (created.error) throw new Error(explain(created.error));
  const id: string | undefined = created.data.activityId;
  const version: number | undefined = created.data.version;
  const location: string | null = created.response.headers.get("Location");
  if (!id) throw new Error(`no activityId (version ${version}, ${location})`);

  // POST /api/v1/activities/batch: {results: [{index, status, activityId?, errors?}]}.
  const batch = await client.POST("/api/v1/activities/batch", { body: { activities: [patrol, { ...patrol, externalId: "mlt-2024-tt-0413" }] } });
  for (const result of batch.data?.results ?? []) {
    const index: number | undefined = result.index;
    const status: string | null | undefined = result.status;
    const errors: Record<string, string[]> | null | undefined = result.errors;
    console.log(index, status, result.activityId, errors);
  }

  // GET /api/v1/activities/{activityId}: the activity with version, sourceSystem, recordedAt, status; ETag.
  const got = await client.GET("/api/v1/activities/{activityId}", { params: { path: { activityId: id } } });
  if (got.error) throw new Error(explain(got.error));
  const etag = got.response.headers.get("ETag") ?? `"${got.data.version}"`;
  console.log(got.data.sourceSystem, got.data.recordedAt, got.data.status);

  // GET /api/v1/activities?unitId=&kind=&from=&to=&limit=&cursor=: a page and nextCursor.
  const page = await client.GET("/api/v1/activities", {
    params: { query: { unitId: "phong-tho", kind: "patrol", from: "2024-01-01", to: "2024-12-31", limit: 50 } },
  });
  const next = page.data?.nextCursor;
  if (next) await client.GET("/api/v1/activities", { params: { query: { cursor: next } } });
  for (const item of page.data?.items ?? []) console.log(item.activityId, item.occurredOn);

  // GET /api/v1/activities/{activityId}/history: type, version, recordedAt, by whom, data.
  const history = await client.GET("/api/v1/activities/{activityId}/history", { params: { path: { activityId: id } } });
  for (const entry of history.data?.events ?? []) console.log(entry.type, entry.version, entry.recordedAt, entry.by, entry.data);

  // PUT /api/v1/activities/{activityId} with If-Match: 200 {activityId, version}; 412 stale; 428 without If-Match.
  const corrected = await client.PUT("/api/v1/activities/{activityId}", {
    params: { path: { activityId: id }, header: { "If-Match": etag } },
    body: { ...patrol, summary: "Phối hợp tuần tra đường biên, kiểm tra mốc 79, 80." },
  });
  if (corrected.error) throw new Error(explain(corrected.error));
  const newEtag: string | null = corrected.response.headers.get("ETag");

  // DELETE /api/v1/activities/{activityId} body {reason}: 200, retracted, history kept (If-Match optional).
  const retracted = await client.DELETE("/api/v1/activities/{activityId}", {
    params: { path: { activityId: id }, header: { "If-Match": newEtag ?? etag } },
    body: { reason: "Ghi trùng." },
  });
  if (retracted.error) throw new Error(explain(retracted.error));
  await client.DELETE("/api/v1/activities/{activityId}", { params: { path: { activityId: id } }, body: { reason: "Ghi trùng." } });
}

export async function imports(): Promise<void> {
  // POST /api/v1/imports: NDJSON lines, 202 + Location; GET /api/v1/imports/{importId}: the job's state.
  const lines = [patrol, { ...patrol, externalId: "mlt-2024-tt-0414" }].map((a) => JSON.stringify(a)).join("\n") + "\n";
  const accepted = await client.POST("/api/v1/imports", {
    body: lines,
    bodySerializer: (body) => body,
    headers: { "Content-Type": "application/x-ndjson" },
  });
  if (accepted.error) throw new Error(explain(accepted.error));
  const jobUrl: string | null = accepted.response.headers.get("Location");
  const importId = accepted.data.importId;
  if (!importId) throw new Error(`no importId (${jobUrl})`);
  const state = await client.GET("/api/v1/imports/{importId}", { params: { path: { importId }, query: { invalidAfter: 0, invalidLimit: 100 } } });
  console.log(state.data?.status, state.data?.counts?.created, state.data?.invalidLines?.map((p) => [p.line, p.errors]), state.data?.nextInvalidAfter);
}

export async function statistics(): Promise<void> {
  // GET /api/v1/statistics: from, to, unitId, kind, groupBy, and any dimension as a filter.
  const figures = await client.GET("/api/v1/statistics", {
    params: { query: { from: "2019-01-01", to: "2024-06-30", unitId: "phong-tho", kind: "patrol,crime-bust", groupBy: "kind,year", category: "drugs" } },
  });
  if (figures.error) throw new Error(explain(figures.error));
  // The answer is JSON here (no Accept: text/csv): the declared union of both media types narrows to the object.
  if (typeof figures.data === "string") throw new Error("CSV without asking");
  for (const row of figures.data.rows ?? []) console.log(row.key, row.metrics?.["activities"]);
  console.log(figures.data.totals, figures.data.groupBy);
  // Each dimension filter of api.md (Pick fails to compile for a name the document does not declare).
  const filters: Required<Pick<StatisticsQuery, "mode" | "format" | "level" | "pairType" | "ceremony" | "category" | "outcome" | "channel" | "hazard" | "form">> = {
    mode: "joint", format: "talks", level: "post", pairType: "post-station", ceremony: "signing",
    category: "drugs", outcome: "prosecuted", channel: "hotline", hazard: "flood", form: "visit",
  };
  await client.GET("/api/v1/statistics", { params: { query: { from: "2024-01-01", to: "2024-12-31", ...filters } } });

  // Accept: text/csv gives the same rows as CSV.
  const csv = await client.GET("/api/v1/statistics", {
    params: { query: { from: "2019-01-01", to: "2024-06-30", groupBy: "kind" } },
    headers: { Accept: "text/csv" },
    parseAs: "text",
  });
  const text: string | undefined = csv.data;
  console.log(text?.split("\n")[0]);
}

export async function reports(): Promise<void> {
  // GET /api/v1/reports/review: JSON sections with lines; format=markdown gives the text.
  const report = await client.GET("/api/v1/reports/review", { params: { query: { unitId: "phong-tho", from: "2019-01-01", to: "2024-06-30" } } });
  if (typeof report.data === "string") throw new Error("markdown without asking");
  for (const section of report.data?.sections ?? []) for (const line of section.lines ?? []) console.log(line.text, line.values);
  const markdown = await client.GET("/api/v1/reports/review", {
    params: { query: { unitId: "phong-tho", from: "2019-01-01", to: "2024-06-30", format: "markdown" } },
    parseAs: "text",
  });
  console.log(markdown.data?.length);
}

export async function feed(): Promise<void> {
  // GET /api/v1/feed?after=&limit=: {events: [{position, type, activityId, recordedAt, data}], nextAfter}.
  let after: string | undefined;
  for (let i = 0; i < 3; i++) {
    const page = await client.GET("/api/v1/feed", { params: { query: after ? { after, limit: 100 } : { limit: 100 } } });
    if (page.error) throw new Error(explain(page.error));
    for (const e of page.data.events ?? []) console.log(e.position, e.type, e.activityId, e.recordedAt, e.data);
    after = page.data.nextAfter ?? after;
  }
}

export async function units(): Promise<void> {
  // GET /api/v1/units (the tree, or ?name=), GET /api/v1/units/{unitId}, POST and PUT (admin).
  const tree = await client.GET("/api/v1/units");
  const walk = (nodes: Schemas["UnitNode"][]): number => nodes.reduce((n, u) => n + 1 + walk(u.children ?? []), 0);
  console.log(walk(tree.data ?? []));
  await client.GET("/api/v1/units", { params: { query: { name: "Phong Thổ" } } });
  const unit = await client.GET("/api/v1/units/{unitId}", { params: { path: { unitId: "phong-tho" } } });
  console.log(unit.data?.name, unit.data?.type, unit.data?.parentId);
  const created = await client.POST("/api/v1/units", { body: { unitId: "xa-moi", name: "Xã Mới", type: "commune", parentId: "phong-tho" } });
  console.log(created.response.headers.get("Location"), created.data?.unitId);
  await client.PUT("/api/v1/units/{unitId}", { params: { path: { unitId: "xa-moi" } }, body: { name: "Xã Mới Lập", type: "commune", parentId: "phong-tho" } });
}

export async function unitsOverTime(): Promise<void> {
  // GET /api/v1/units?asOf= (the tree on a day, each node with validFrom, validTo); ?name=&includeEnded=true.
  const before = await client.GET("/api/v1/units", { params: { query: { asOf: "2025-06-30" } } });
  const firstNode: Schemas["UnitNode"] | undefined = before.data?.[0];
  const validFrom: string | null | undefined = firstNode?.validFrom;
  const validTo: string | null | undefined = firstNode?.validTo;
  console.log(validFrom, validTo);
  const former = await client.GET("/api/v1/units", { params: { query: { name: "Hoang Thèn", includeEnded: true } } });
  for (const u of former.data ?? []) for (const s of u.successors ?? []) console.log(u.unitId, u.ending, s.unitId, s.name, s.effectiveFrom);
  // GET /api/v1/units/{unitId}: now or as it last was, with validFrom, validTo, predecessors, successors.
  const unit = await client.GET("/api/v1/units/{unitId}", { params: { path: { unitId: "khong-lao" } } });
  for (const p of unit.data?.predecessors ?? []) console.log(p.unitId, p.name, p.how, p.effectiveFrom);
  // GET /api/v1/units/{unitId}/history: {change, effectiveFrom, recordedAt, by, reorganisationId?, …}.
  const history = await client.GET("/api/v1/units/{unitId}/history", { params: { path: { unitId: "don-ma-lu-thang" } } });
  for (const c of history.data ?? []) console.log(c.change, c.effectiveFrom, c.recordedAt, c.by, c.reorganisationId, c.parentId, c.into);
  // POST /api/v1/units with validFrom; PUT with effectiveFrom (without it: a correction from the beginning).
  await client.POST("/api/v1/units", { body: { unitId: "bch-bdbp-lai-chau", name: "Ban Chỉ huy Bộ đội Biên phòng tỉnh Lai Châu", type: "border-guard-command", parentId: "lai-chau", validFrom: "2025-07-01" } });
  await client.PUT("/api/v1/units/{unitId}", { params: { path: { unitId: "don-ma-lu-thang" } }, body: { name: "Đồn Biên phòng Ma Lù Thàng", type: "border-post", parentId: "bch-bdbp-lai-chau", effectiveFrom: "2025-07-01" } });

  // POST /api/v1/reorganisations (admin): 201 + Location; the same body again 200; another body under the id 409; 400 keyed changes[i].field.
  const reform: Schemas["ReorganisationRequest"] = {
    reorganisationId: "nq-1670-ubtvqh15-lai-chau",
    title: "Nghị quyết 1670/NQ-UBTVQH15",
    effectiveFrom: "2025-07-01",
    changes: [
      { op: "establish", unitId: "khong-lao", name: "Khổng Lào", type: "commune", parentId: "lai-chau" },
      { op: "merge", unitIds: ["hoang-then", "ban-lang"], into: "khong-lao" },
      { op: "split", unitId: "xa-cu", into: ["xa-moi-a", "xa-moi-b"] },
      { op: "dissolve", unitId: "phong-tho", childrenTo: "lai-chau" },
    ],
  };
  const recorded = await client.POST("/api/v1/reorganisations", { body: reform });
  if (recorded.error) throw new Error(explain(recorded.error));
  console.log(recorded.response.status, recorded.response.headers.get("Location"), recorded.data.applied, recorded.data.recordedAt, recorded.data.by, recorded.data.units);
  // GET /api/v1/reorganisations (newest first), GET /api/v1/reorganisations/{reorganisationId}.
  const all = await client.GET("/api/v1/reorganisations");
  for (const r of all.data ?? []) console.log(r.reorganisationId, r.title, r.effectiveFrom, r.applied);
  const one = await client.GET("/api/v1/reorganisations/{reorganisationId}", { params: { path: { reorganisationId: "nq-1670-ubtvqh15-lai-chau" } } });
  if (one.error) throw new Error(explain(one.error));
  console.log(one.data.changes?.length, one.data.title, one.data.applied);
}

export async function admin(): Promise<void> {
  // GET /api/v1/admin/projections, POST /api/v1/admin/projections/{name}/rebuild, GET /api/v1/admin/verify.
  const status = await client.GET("/api/v1/admin/projections");
  if (status.error) throw new Error(explain(status.error));
  console.log(status.data.head, status.data.highWaterMark, status.data.projections?.map((p) => [p.name, p.position, p.lag]));
  const rebuild = await client.POST("/api/v1/admin/projections/{name}/rebuild", { params: { path: { name: "statistics" } } });
  console.log(rebuild.data?.status, rebuild.response.headers.get("Location"));
  const verify = await client.GET("/api/v1/admin/verify");
  console.log(verify.data?.differenceCount);
}

export async function health(): Promise<void> {
  // GET /health/live, GET /health/ready: no key needed.
  const live = await client.GET("/health/live");
  const ready = await client.GET("/health/ready");
  // 503 (Unhealthy) answers the same health body: status, database, projections.
  const states: (string | null | undefined)[] = [live.data?.status, ready.data?.status, ready.error?.status, ready.error?.database];
  console.log(states);
}
