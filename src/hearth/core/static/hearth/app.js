// Small behaviours without inline scripts (the Content Security Policy forbids them).
document.addEventListener("change", function (e) {
  if (e.target.matches("select[data-autosubmit]")) { e.target.form.submit(); }
  if (e.target.matches("input[data-check-all]")) {
    var name = e.target.dataset.checkAll;
    e.target.form.querySelectorAll('input[name="' + name + '"]').forEach(function (c) { c.checked = e.target.checked; });
  }
});
document.addEventListener("submit", function (e) {
  // A double tap or double click submits a form once.
  var form = e.target;
  if (form.dataset.submitted === "1") { e.preventDefault(); return; }
  form.dataset.submitted = "1";
  setTimeout(function () { form.dataset.submitted = ""; }, 4000);
});
