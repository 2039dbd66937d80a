// Served by the app itself; no inline scripts (the CSP allows only 'self').
(function () {
  "use strict";

  // Line tables: add and remove labour / parts / checklist lines.
  function renumber(table) {
    var field = table.getAttribute("data-lines");
    table.querySelectorAll("tbody tr").forEach(function (row, index) {
      row.querySelectorAll("input, select").forEach(function (input) {
        input.name = input.name.replace(/^(\w+)\[\d+\]/, field + "[" + (index + 1) + "]");
      });
    });
  }
  document.addEventListener("click", function (event) {
    var add = event.target.closest(".add-line");
    if (add) {
      var table = document.querySelector('table[data-lines="' + add.getAttribute("data-target") + '"]');
      var rows = table.querySelectorAll("tbody tr");
      var copy = rows[rows.length - 1].cloneNode(true);
      copy.querySelectorAll("input").forEach(function (input) { input.value = ""; });
      copy.querySelectorAll("select").forEach(function (select) { select.selectedIndex = 0; });
      copy.querySelectorAll(".field-error").forEach(function (e) { e.remove(); });
      copy.querySelectorAll(".has-error").forEach(function (e) { e.classList.remove("has-error"); });
      table.querySelector("tbody").appendChild(copy);
      renumber(table);
      var first = copy.querySelector("input, select");
      if (first) { first.focus(); }
      return;
    }
    var remove = event.target.closest(".remove-line");
    if (remove) {
      var body = remove.closest("tbody");
      var row = remove.closest("tr");
      if (body.querySelectorAll("tr").length > 1) {
        row.remove();
      } else {
        row.querySelectorAll("input").forEach(function (input) { input.value = ""; });
      }
      renumber(body.closest("table"));
    }
  });

  // The customer's signature pad: touch, pen and mouse through pointer events.
  document.querySelectorAll("canvas.signature-pad").forEach(function (canvas) {
    var form = canvas.closest("form");
    var context = canvas.getContext("2d");
    var drawing = false;
    var drawn = false;
    context.lineWidth = 2.5;
    context.lineCap = "round";
    context.lineJoin = "round";
    context.strokeStyle = "#111";
    function point(event) {
      var box = canvas.getBoundingClientRect();
      return {
        x: (event.clientX - box.left) * (canvas.width / box.width),
        y: (event.clientY - box.top) * (canvas.height / box.height)
      };
    }
    canvas.addEventListener("pointerdown", function (event) {
      drawing = true;
      canvas.setPointerCapture(event.pointerId);
      var p = point(event);
      context.beginPath();
      context.moveTo(p.x, p.y);
      event.preventDefault();
    });
    canvas.addEventListener("pointermove", function (event) {
      if (!drawing) { return; }
      var p = point(event);
      context.lineTo(p.x, p.y);
      context.stroke();
      drawn = true;
      event.preventDefault();
    });
    ["pointerup", "pointercancel", "pointerleave"].forEach(function (name) {
      canvas.addEventListener(name, function () { drawing = false; });
    });
    var clear = form.querySelector("[data-clear-pad]");
    if (clear) {
      clear.addEventListener("click", function () {
        context.clearRect(0, 0, canvas.width, canvas.height);
        drawn = false;
      });
    }
    form.addEventListener("submit", function (event) {
      if (!drawn) {
        event.preventDefault();
        alert("请先在签字板上签名");
        return;
      }
      form.querySelector('input[name="signature_png"]').value = canvas.toDataURL("image/png");
    });
  });

  // Forms that change something disable their button once sent: no double filing on a slow day.
  document.addEventListener("submit", function (event) {
    if (event.defaultPrevented || event.target.method.toLowerCase() !== "post") { return; }
    event.target.querySelectorAll('button[type="submit"]').forEach(function (button) {
      setTimeout(function () { button.disabled = true; }, 0);
    });
  });
})();

// Background jobs (a month's bundle, a bundle being checked): follow the job until it is done,
// then offer the PDF, or open the check's report (a box marked data-job-open).
(function () {
  "use strict";
  var box = document.querySelector("[data-job]");
  if (!box) { return; }
  var status = box.querySelector("[data-job-status]");
  var bar = box.querySelector("progress");
  var link = box.querySelector("[data-job-link]");
  function poll() {
    fetch("/jobs/" + box.getAttribute("data-job"), { credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (job) {
        if (job.total) { bar.max = job.total; bar.value = job.done; }
        if (job.state === "done" && box.hasAttribute("data-job-open")) {
          status.textContent = "已完成，正在打开结果…";
          window.location.replace(job.url);
        } else if (job.state === "done") {
          status.textContent = "已完成";
          bar.max = 1; bar.value = 1;
          link.href = job.url;
          link.hidden = false;
        } else if (job.state === "failed" && box.hasAttribute("data-job-open")) {
          window.location.replace(box.querySelector("[data-job-link]").href);
        } else if (job.state === "failed") {
          status.textContent = job.error || "生成失败";
        } else {
          status.textContent = job.stage + " " + job.done + " / " + job.total;
          setTimeout(poll, 700);
        }
      })
      .catch(function () { setTimeout(poll, 2000); });
  }
  poll();
})();
