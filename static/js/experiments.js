// The image experiments' REST API (/api/datasets, /api/experiments), on api.js's fetch wrapper.

import { request } from "./api.js";

const base = (id) => `/api/experiments/${id}`;

export const experiments = {
  datasets: () => request("GET", "/api/datasets"),
  create: (body) => request("POST", "/api/experiments", body),
  get: (id) => request("GET", base(id)),
  update: (id, changes) => request("PATCH", base(id), changes),
  step: (id, steps, templates = false) => request("POST", `${base(id)}/step${templates ? "?templates=true" : ""}`, { steps }),
  reset: (id, body) => request("POST", `${base(id)}/reset`, body),
  evaluate: (id, split) => request("GET", `${base(id)}/evaluate?split=${split}`),
  templates: (id) => request("GET", `${base(id)}/templates`),
  images: (id, split, indices) => request("GET", `${base(id)}/images?${new URLSearchParams({ split, indices: indices.join(",") })}`),
  gradcheck: (id, count) => request("GET", `${base(id)}/gradcheck?count=${count}`),
};
