"use strict";
// The Milvus CDC status page. It reads the server's public API (POST /cdc list, GET /cdc/tasks/{id}/events,
// GET /cdc/metrics) and refreshes by itself. Every value reaches the page through textContent or an SVG attribute,
// never as markup, so a collection name or an error text containing HTML shows as the text it is.
(() => {
  const params = new URLSearchParams(location.search);
  const refreshMs = Math.min(Math.max(Number(params.get("refresh")) || 5, 1), 3600) * 1000;
  const historyMs = 10 * 60 * 1000; // the lag chart's window
  const actionsEnabled = document.body.dataset.actions === "on";
  const colors = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"];
  const svgNs = "http://www.w3.org/2000/svg";

  const tasksElement = document.getElementById("tasks");
  const summary = document.getElementById("summary");
  const pageError = document.getElementById("page-error");
  const template = document.getElementById("task-template");

  const tokenForm = document.getElementById("token-form");
  const tokenInput = document.getElementById("token-input");
  // A server with apiAuth.tokens answers 401 without one: the page asks for it and keeps it for this tab only.
  const tokenKey = "milvus-cdc-api-token";

  /** fetch with the tab's API token, if one was given; a 401 shows the token form. */
  async function apiFetch(url, init = {}) {
    const token = sessionStorage.getItem(tokenKey);
    const headers = token ? { ...(init.headers || {}), Authorization: `Bearer ${token}` } : init.headers;
    const response = await fetch(url, { ...init, headers });
    if (response.status === 401) {
      tokenForm.hidden = false;
      throw new Error(token ? "the API token was refused: enter another one" : "this server needs an API token: enter it above");
    }
    return response;
  }

  tokenForm.addEventListener("submit", (event) => {
    event.preventDefault();
    sessionStorage.setItem(tokenKey, tokenInput.value.trim());
    tokenInput.value = "";
    tokenForm.hidden = true;
    refreshNow();
  });

  /** task_id -> { element, lag: Map(channel -> [{at, ms}]) }: what the page keeps between refreshes. */
  const cards = new Map();
  /** The write counters of the previous scrape: { at, totals: Map(task_id -> {rows, bytes}) }. */
  let previousCounters = null;
  let timer = null;

  async function cdc(requestType, requestData) {
    const envelope = requestData === undefined ? { request_type: requestType } : { request_type: requestType, request_data: requestData };
    const response = await apiFetch("/cdc", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(envelope),
    });
    const body = await response.json().catch(() => null);
    if (!body || body.code !== 200) throw new Error(body && body.message ? body.message : `HTTP ${response.status}`);
    return body.data;
  }

  // Prometheus text format 0.0.4: name{label="value",...} value
  function parseMetrics(text) {
    const samples = [];
    for (const line of text.split("\n")) {
      if (line.length === 0 || line.startsWith("#")) continue;
      const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
      if (!match) continue;
      const labels = {};
      for (const label of (match[2] || "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
        labels[label[1]] = label[2].replace(/\\(.)/g, (_, c) => (c === "n" ? "\n" : c));
      samples.push({ name: match[1], labels, value: Number(match[3]) });
    }
    return samples;
  }

  /** Rows and bytes written to the target per task, as this server counted them (null when the metrics cannot be read). */
  async function readWriteCounters() {
    try {
      const response = await apiFetch("/cdc/metrics");
      if (!response.ok) return null;
      const totals = new Map();
      for (const s of parseMetrics(await response.text())) {
        const kind = s.name === "milvus_cdc_replicate_data_cnt" ? "rows" : s.name === "milvus_cdc_replicate_data_size" ? "bytes" : null;
        if (kind === null || s.labels.op_type !== "write") continue;
        const total = totals.get(s.labels.task_id) || { rows: 0, bytes: 0 };
        total[kind] += s.value;
        totals.set(s.labels.task_id, total);
      }
      return { at: Date.now(), totals };
    } catch {
      return null;
    }
  }

  function formatMs(ms) {
    if (ms < 1000) return `${ms} ms`;
    if (ms < 60000) return `${(ms / 1000).toFixed(1)} s`;
    const minutes = Math.floor(ms / 60000);
    return minutes < 120 ? `${minutes} min ${Math.floor((ms % 60000) / 1000)} s` : `${(minutes / 60).toFixed(1)} h`;
  }

  function formatBytes(bytes) {
    const units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let i = 0;
    while (bytes >= 1024 && i < units.length - 1) { bytes /= 1024; i++; }
    return `${bytes.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
  }

  function formatTime(value) {
    const date = new Date(value);
    return Number.isNaN(date.getTime()) ? String(value) : date.toLocaleString();
  }

  function setText(element, text) {
    element.textContent = text === undefined || text === null ? "" : String(text);
  }

  function setBadge(element, text, tone) {
    element.hidden = text === undefined || text === null;
    setText(element, text);
    element.classList.remove("good", "warn", "bad");
    if (tone) element.classList.add(tone);
  }

  function targetText(task) {
    const m = task.milvus_connect_param || {};
    return m.uri || (m.host ? `${m.host}:${m.port}` : "");
  }

  function collectionsText(task) {
    const names = (infos) => (infos || []).map((c) => c.name).join(", ");
    if (task.collection_infos) return names(task.collection_infos);
    if (task.db_collections) return Object.entries(task.db_collections).map(([db, infos]) => `${db}: ${names(infos)}`).join("; ");
    return "";
  }

  function createCard(taskId) {
    const element = template.content.firstElementChild.cloneNode(true);
    setText(element.querySelector(".task-id"), taskId);
    element.dataset.taskId = taskId;
    const card = { element, lag: new Map() };
    const events = element.querySelector("details.events");
    events.addEventListener("toggle", () => { if (events.open) loadEvents(taskId, card); });
    if (actionsEnabled) {
      element.querySelector(".actions").hidden = false;
      for (const button of element.querySelectorAll("button[data-action]"))
        button.addEventListener("click", () => act(button.dataset.action, taskId, card));
    }
    return card;
  }

  async function act(action, taskId, card) {
    if (!window.confirm(`${action[0].toUpperCase()}${action.slice(1)} task ${taskId}?`)) return;
    const result = card.element.querySelector(".action-result");
    try {
      await cdc(action, { task_id: taskId });
      setText(result, `${action}: done`);
      result.classList.remove("error");
    } catch (error) {
      setText(result, `${action} failed: ${error.message}`);
      result.classList.add("error");
    }
    result.hidden = false;
    refreshNow();
  }

  async function loadEvents(taskId, card) {
    const body = card.element.querySelector("details.events tbody");
    try {
      const response = await apiFetch(`/cdc/tasks/${encodeURIComponent(taskId)}/events`);
      const json = await response.json();
      if (json.code !== 200) throw new Error(json.message || `HTTP ${response.status}`);
      const rows = json.data.events.slice().reverse().map((e) => {
        const row = document.createElement("tr");
        for (const [text, cls] of [[e.version], [formatTime(e.timestamp)], [e.type], [JSON.stringify(e.data), "data"]]) {
          const cell = document.createElement("td");
          setText(cell, text);
          if (cls) cell.className = cls;
          row.appendChild(cell);
        }
        return row;
      });
      body.replaceChildren(...rows);
    } catch (error) {
      const row = document.createElement("tr");
      const cell = document.createElement("td");
      cell.colSpan = 4;
      cell.className = "error";
      setText(cell, `cannot read the events: ${error.message}`);
      row.appendChild(cell);
      body.replaceChildren(row);
    }
  }

  function recordLag(card, task, now) {
    for (const p of task.position || []) {
      if (typeof p.lag_ms !== "number") continue; // the replicate channel has no time ticks, so no lag
      const samples = card.lag.get(p.channel_name) || [];
      samples.push({ at: now, ms: p.lag_ms });
      while (samples.length > 0 && samples[0].at < now - historyMs) samples.shift();
      card.lag.set(p.channel_name, samples);
    }
  }

  function drawLagChart(card, now) {
    const svg = card.element.querySelector(".lag-chart svg");
    const caption = card.element.querySelector(".lag-chart-caption");
    const width = 600, height = 120, top = 14;
    let peak = 1000;
    let oldest = now;
    for (const samples of card.lag.values()) {
      for (const s of samples) peak = Math.max(peak, s.ms);
      if (samples.length > 0) oldest = Math.min(oldest, samples[0].at);
    }
    // The x axis spans the samples taken so far, up to the window.
    const span = Math.max(now - oldest, refreshMs);
    const shapes = [];
    let i = 0;
    for (const [channel, samples] of card.lag) {
      const color = colors[i++ % colors.length];
      const points = samples.map((s) => {
        const x = ((s.at - (now - span)) / span) * width;
        const y = height - (s.ms / peak) * (height - top);
        return `${x.toFixed(1)},${y.toFixed(1)}`;
      });
      const line = document.createElementNS(svgNs, "polyline");
      line.setAttribute("points", points.join(" "));
      line.setAttribute("fill", "none");
      line.setAttribute("stroke", color);
      line.setAttribute("stroke-width", "2");
      line.setAttribute("vector-effect", "non-scaling-stroke");
      line.dataset.channel = channel;
      const title = document.createElementNS(svgNs, "title");
      setText(title, channel);
      line.appendChild(title);
      shapes.push(line);
    }
    const scale = document.createElementNS(svgNs, "text");
    scale.setAttribute("x", "4");
    scale.setAttribute("y", "11");
    scale.setAttribute("font-size", "10");
    setText(scale, `peak ${formatMs(peak)}`);
    shapes.push(scale);
    svg.replaceChildren(...shapes);
    setText(caption, card.lag.size === 0
      ? "Lag chart: no channel checkpoint yet."
      : `Lag per channel over the last ${formatMs(Math.round(span))} (at most ${historyMs / 60000} minutes), sampled by this page every ${refreshMs / 1000} s since it was opened.`);
  }

  function throughputText(taskId, counters) {
    const now = counters && counters.totals.get(taskId);
    if (!now) return counters ? "no rows written by this server" : "metrics unavailable";
    const before = previousCounters && previousCounters.totals.get(taskId);
    const totals = `${now.rows.toLocaleString()} rows, ${formatBytes(now.bytes)} written`;
    if (!before || now.rows < before.rows || now.bytes < before.bytes) return totals;
    const seconds = (counters.at - previousCounters.at) / 1000;
    if (seconds <= 0) return totals;
    return `${((now.rows - before.rows) / seconds).toFixed(1)} rows/s, ${formatBytes((now.bytes - before.bytes) / seconds)}/s (${totals})`;
  }

  function renderTask(card, task, counters, now) {
    const e = card.element;
    const health = task.health || {};
    setBadge(e.querySelector(".state"), task.state, task.state === "Running" ? "good" : "warn");
    setBadge(e.querySelector(".status"), health.status,
      health.status === "replicating" ? "good" : health.status === "retrying" ? "bad" : "warn");
    // The "caught up" signal of get/list, shown once the task has run; its times in the badge's tooltip.
    const caughtUp = e.querySelector(".caught-up");
    setBadge(caughtUp, task.caught_up === undefined ? null : task.caught_up ? "caught up" : "not caught up", task.caught_up ? "good" : "warn");
    caughtUp.title = task.caught_up
      ? `caught up since ${formatTime(task.caught_up_since)}; the target has everything the source held at ${formatTime(task.caught_up_as_of)}`
      : "";
    if (actionsEnabled) {
      e.querySelector("button[data-action=pause]").hidden = task.state !== "Running";
      e.querySelector("button[data-action=resume]").hidden = task.state !== "Paused";
    }
    setText(e.querySelector(".target"), targetText(task));
    setText(e.querySelector(".collections"), collectionsText(task));
    setText(e.querySelector(".lag"), typeof health.lag_ms === "number" ? formatMs(health.lag_ms) : "no checkpoint yet");
    setText(e.querySelector(".throughput"), throughputText(task.task_id, counters));
    e.querySelector(".reason-label").hidden = e.querySelector(".reason").hidden = !task.reason;
    setText(e.querySelector(".reason"), task.reason);
    setText(e.querySelector(".last-error"), health.last_error || "none");
    const errorTime = e.querySelector(".last-error-time");
    setText(errorTime, health.last_error_time ? formatTime(health.last_error_time) : "");
    if (health.last_error_time) errorTime.dateTime = health.last_error_time;

    const rows = (task.position || []).map((p) => {
      const row = document.createElement("tr");
      for (const text of [p.channel_name, typeof p.lag_ms === "number" ? formatMs(p.lag_ms) : "—", formatTime(p.time), p.checkpointed_at ? formatTime(p.checkpointed_at) : ""]) {
        const cell = document.createElement("td");
        setText(cell, text);
        row.appendChild(cell);
      }
      return row;
    });
    e.querySelector("table.channels tbody").replaceChildren(...rows);

    recordLag(card, task, now);
    drawLagChart(card, now);
    if (e.querySelector("details.events").open) loadEvents(task.task_id, card);
  }

  function renderSummary(tasks) {
    const states = new Map();
    for (const t of tasks) states.set(t.state, (states.get(t.state) || 0) + 1);
    const parts = [...states].map(([state, n]) => `${n} ${state}`).join(", ");
    setText(summary, `${tasks.length} task${tasks.length === 1 ? "" : "s"}${parts ? `: ${parts}` : ""} · updated ${new Date().toLocaleTimeString()}`);
  }

  async function refresh() {
    try {
      const [list, counters] = await Promise.all([cdc("list"), readWriteCounters()]);
      const tasks = list.tasks || [];
      const now = Date.now();
      const seen = new Set();
      for (const task of tasks) {
        seen.add(task.task_id);
        let card = cards.get(task.task_id);
        if (!card) {
          card = createCard(task.task_id);
          cards.set(task.task_id, card);
        }
        renderTask(card, task, counters, now);
        tasksElement.appendChild(card.element); // keeps the list's order
      }
      for (const [taskId, card] of cards) {
        if (seen.has(taskId)) continue;
        card.element.remove();
        cards.delete(taskId);
      }
      if (counters) previousCounters = counters;
      renderSummary(tasks);
      pageError.hidden = true;
    } catch (error) {
      setText(pageError, `Cannot read the tasks: ${error.message}`);
      pageError.hidden = false;
    }
  }

  async function refreshNow() {
    clearTimeout(timer);
    await refresh();
    timer = setTimeout(refreshNow, refreshMs);
  }

  refreshNow();
})();
