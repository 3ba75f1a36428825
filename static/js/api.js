// The REST API, and nothing else: fetch with JSON in and out, and one queue so that the page never has two
// state-changing requests in flight (their order is the order the user acted in).

export class ApiError extends Error {
  constructor(status, detail) {
    const text = Array.isArray(detail) ? detail.map((d) => d.msg).join("; ") : String(detail);
    super(text);
    this.status = status;
  }
}

export async function request(method, path, body) {
  const init = { method, headers: {} };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  if (response.status === 204) return null;
  const data = await response.json();
  if (!response.ok) throw new ApiError(response.status, data.detail);
  return data;
}

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
  update: (id, changes) => request("PATCH", `/api/sessions/${id}`, changes),
  step: (id, steps, detail = "full") => request("POST", `/api/sessions/${id}/step?detail=${detail}`, { steps }),
  reset: (id, body) => request("POST", `/api/sessions/${id}/reset`, body),
  import: (record) => request("POST", "/api/sessions/import", record),
  gradcheck: (id) => request("GET", `/api/sessions/${id}/gradcheck`),
  surface: (id, p1, p2, span, n) =>
    request("GET", `/api/sessions/${id}/surface?${new URLSearchParams({ p1, p2, span, n })}`),
  line: (id, direction, span, n) =>
    request("GET", `/api/sessions/${id}/line?${new URLSearchParams({ direction, span, n })}`),
  exportUrl: (id) => `/api/sessions/${id}/export`,
};
