"use strict";
(function () {
  var rows = Array.prototype.slice.call(document.querySelectorAll("#findings-table tbody tr"));
  var counter = document.getElementById("shown-count");
  var none = document.getElementById("no-match");
  var get = function (id) { return document.getElementById(id); };
  var controls = ["f-severity", "f-surface", "f-kind", "f-search", "f-suppressed"].map(get);
  function apply() {
    var sev = get("f-severity").value, surface = get("f-surface").value;
    var kind = get("f-kind").value, query = get("f-search").value.trim().toLowerCase();
    var withSuppressed = get("f-suppressed").checked, shown = 0;
    rows.forEach(function (row) {
      var d = row.dataset;
      var ok = (!sev || d.severity === sev) && (!surface || d.surface === surface) &&
        (!kind || d.kind === kind) && (withSuppressed || d.suppressed !== "yes") &&
        (!query || d.text.indexOf(query) !== -1);
      row.hidden = !ok;
      if (ok) { shown += 1; }
    });
    counter.textContent = shown + " of " + rows.length + " shown";
    none.hidden = shown !== 0;
  }
  controls.forEach(function (el) {
    el.addEventListener("input", apply);
    el.addEventListener("change", apply);
  });
  Array.prototype.forEach.call(document.querySelectorAll("[data-filter-severity]"), function (el) {
    el.addEventListener("click", function () {
      get("f-severity").value = el.getAttribute("data-filter-severity");
      get("f-surface").value = el.getAttribute("data-filter-surface") || "";
      apply();
      get("findings").scrollIntoView();
    });
  });
  // #filter?severity=HIGH&surface=image&q=openssl opens the page filtered (a link to share)
  var preset = /^#filter\?(.*)$/.exec(window.location.hash);
  if (preset) {
    new URLSearchParams(preset[1]).forEach(function (value, key) {
      var el = get("f-" + (key === "q" ? "search" : key));
      if (controls.indexOf(el) === -1) { return; }
      if (el.type === "checkbox") { el.checked = value === "1"; } else { el.value = value; }
    });
  }
  apply();
}());
