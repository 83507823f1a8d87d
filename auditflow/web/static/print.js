// The whole report, opened by the summary page's 인쇄 button: print it once it is laid out.
// (The summary page shows its items a page at a time; this document holds every item.)
window.addEventListener("load", function () {
  window.print();
});
