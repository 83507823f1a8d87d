// The API's operations, read from its own OpenAPI document (no inline script: CSP 'self').
(function () {
  "use strict";
  function cell(row, text, tag) {
    var el = document.createElement(tag || "td");
    el.textContent = text;
    row.appendChild(el);
    return el;
  }
  function draw(spec) {
    var byTag = {};
    Object.keys(spec.paths || {}).forEach(function (path) {
      var item = spec.paths[path];
      ["get", "post", "put", "patch", "delete"].forEach(function (method) {
        var op = item[method];
        if (!op) { return; }
        var tag = (op.tags && op.tags[0]) || "api";
        (byTag[tag] = byTag[tag] || []).push({ path: path, method: method, op: op });
      });
    });
    var root = document.getElementById("api-docs-operations");
    Object.keys(byTag).forEach(function (tag) {
      var heading = document.createElement("h2");
      heading.textContent = tag;
      root.appendChild(heading);
      var table = document.createElement("table");
      var head = document.createElement("tr");
      ["방식", "경로", "설명", "매개변수", "응답"].forEach(function (t) { cell(head, t, "th"); });
      table.appendChild(head);
      byTag[tag].forEach(function (entry) {
        var row = document.createElement("tr");
        cell(row, entry.method.toUpperCase()).className = "method";
        cell(row, entry.path).className = "path";
        cell(row, (entry.op.summary || "") + (entry.op.description ? " — " + entry.op.description : ""));
        cell(row, (entry.op.parameters || []).map(function (p) { return p.name + " (" + p["in"] + ")"; })
          .concat(entry.op.requestBody ? ["본문: " + Object.keys(entry.op.requestBody.content || {}).join(", ")] : [])
          .join(", "));
        cell(row, Object.keys(entry.op.responses || {}).join(", "));
        table.appendChild(row);
      });
      root.appendChild(table);
    });
    document.getElementById("api-docs-status").textContent =
      spec.info.title + " " + spec.info.version + ": 동작 " + root.querySelectorAll("tr.method, td.method").length + "개";
  }
  document.addEventListener("DOMContentLoaded", function () {
    var url = document.getElementById("content").getAttribute("data-spec");
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.json(); })
      .then(draw)
      .catch(function () {
        document.getElementById("api-docs-status").textContent = "문서를 불러오지 못했습니다.";
      });
  });
})();
