// The REST API, and nothing else: fetch with JSON in and out, and one queue so that the page never has two
// state-changing requests in flight (their order is the order the user acted in).

export class ApiError extends Error {
  constructor(status, detail) {
    const text = Array.isArray(detail) ? detail.map((d) => d.msg).join("; ") : String(detail);
    super(text);
    this.status = status;
  }
}

// The ETag of the last state seen of each session, sent as If-Match with every change: a change applies only
// to the state the page showed, so a retried one (its answer lost) is never applied twice; 412 if it moved on.
const etags = new Map();

export async function request(method, path, body, ifMatch = null) {
  const init = { method, headers: {} };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  if (ifMatch) init.headers["If-Match"] = ifMatch;
  const response = await send(path, init, Boolean(ifMatch));
  if (response.status === 204) return null;
  const data = await response.json();
  if (!response.ok) throw new ApiError(response.status, data.detail);
  const tag = response.headers.get("ETag");
  if (tag && data.id) etags.set(data.id, tag);
  return data;
}

// A conditional request is sent again, once, if its answer was lost or was a 503 (which may or may not have
// been applied): If-Match makes the second one a 412 if the first was.
async function send(path, init, conditional) {
  try {
    const response = await fetch(path, init);
    if (response.status !== 503 || !conditional) return response;
    await pause(response.headers.get("Retry-After"));
  } catch (err) {
    if (!conditional) throw err;
    await pause(1);
  }
  return fetch(path, init);
}

const pause = (seconds) => new Promise((resolve) => setTimeout(resolve, 1000 * Math.min(2, Number(seconds) || 1)));
const change = (method, id, path, body) => request(method, `/api/sessions/${id}${path}`, body, etags.get(id));

// A serial queue with coalescing: a job queued under a key replaces a not-yet-started job with that key
// (dragging a slider sends only the latest value, not every intermediate one).
export class SerialQueue {
  constructor() {
    this.jobs = [];
    this.running = false;
  }

  get busy() {
    return this.running || this.jobs.length > 0;
  }

  push(fn, key = null) {
    return new Promise((resolve, reject) => {
      const pending = key && this.jobs.find((j) => j.key === key);
      if (pending) {
        pending.fn = fn;
        pending.waiters.push({ resolve, reject });
      } else {
        this.jobs.push({ fn, key, waiters: [{ resolve, reject }] });
      }
      this.#drain();
    });
  }

  async #drain() {
    if (this.running) return;
    this.running = true;
    while (this.jobs.length) {
      const job = this.jobs.shift();
      try {
        const value = await job.fn();
        job.waiters.forEach((w) => w.resolve(value));
      } catch (err) {
        job.waiters.forEach((w) => w.reject(err));
      }
    }
    this.running = false;
  }
}

export const sessions = {
  create: (body) => request("POST", "/api/sessions", body),
  get: (id) => request("GET", `/api/sessions/${id}`),
  update: (id, changes) => change("PATCH", id, "", changes),
  step: (id, steps, detail = "full") => change("POST", id, `/step?detail=${detail}`, { steps }),
  reset: (id, body) => change("POST", id, "/reset", body),
  restore: (id) => change("POST", id, "/restore", {}),
  revision: (id) => `${id}:${etags.get(id) ?? ""}`, // changes with every change of the session
  import: (record) => request("POST", "/api/sessions/import", record),
  remove: (id) => change("DELETE", id, ""),
  gradcheck: (id) => request("GET", `/api/sessions/${id}/gradcheck`),
  surface: (id, p1, p2, span, n) =>
    request("GET", `/api/sessions/${id}/surface?${new URLSearchParams({ p1, p2, span, n })}`),
  line: (id, direction, span, n) =>
    request("GET", `/api/sessions/${id}/line?${new URLSearchParams({ direction, span, n })}`),
  exportUrl: (id) => `/api/sessions/${id}/export`,
};
