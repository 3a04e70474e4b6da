// 「管理」's pages: the message at the top (what the last action did) takes the focus, so a
// screen reader says it and the keyboard starts from it.
document.addEventListener("DOMContentLoaded", function () {
  var message = document.querySelector("[data-focus-message]");
  if (message) { message.focus(); }
});
