// 「同意取得済み患者一覧」 as a busy counter keeps it open (issue 33):
// - the rows are fetched every few seconds and swapped in when they changed, so a patient who just
//   finished reception appears without a reload;
// - rows not there when the page was opened are counted: a badge, and the count in the title;
// - 「氏名・カナで検索」 filters the rows as one types (data-search, made by the server with the same
//   normalisation: NFKC, hiragana as katakana, no spaces);
// - when a refresh fails, the status line says 「更新が止まりました」 and why, until one succeeds.
(function () {
  "use strict";
  var table = document.getElementById("patient-list");
  if (!table || !window.fetch) { return; }
  var url = table.getAttribute("data-fragment-url");
  var status = document.getElementById("list-status");
  var badge = document.getElementById("new-badge");
  var search = document.getElementById("patient-search");
  var none = document.getElementById("search-none");
  var title = document.title;
  var day = status ? status.getAttribute("data-day") : "";
  var last = null;
  var seen = {};

  function ids() {
    var out = [];
    document.querySelectorAll("#patient-rows tr[data-id]").forEach(function (row) {
      out.push(row.getAttribute("data-id"));
    });
    return out;
  }
  ids().forEach(function (id) { seen[id] = true; });

  function searchKey(text) {
    var s = (text || "").normalize ? text.normalize("NFKC") : (text || "");
    s = s.replace(/[\u3041-\u3096]/g, function (c) { return String.fromCharCode(c.charCodeAt(0) + 0x60); });
    return s.replace(/\s+/g, "");
  }

  function applySearch() {
    if (!search) { return; }
    var wanted = searchKey(search.value);
    var shown = 0;
    var rows = document.querySelectorAll("#patient-rows tr[data-id]");
    rows.forEach(function (row) {
      var match = !wanted || (row.getAttribute("data-search") || "").indexOf(wanted) !== -1;
      row.hidden = !match;
      if (match) { shown += 1; }
    });
    if (none) { none.hidden = !(wanted && rows.length && shown === 0); }
  }

  function countNew() {
    var fresh = ids().filter(function (id) { return !seen[id]; }).length;
    if (badge) {
      badge.hidden = fresh === 0;
      badge.textContent = "新しい受付 " + fresh + "件";
    }
    document.title = fresh ? "（新着" + fresh + "）" + title : title;
  }

  function say(text, stopped) {
    if (!status) { return; }
    status.textContent = text;
    status.classList.toggle("alert", stopped);
  }

  function refresh() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (resp) {
        if (resp.redirected) { throw new Error("ログインが切れました。ログインし直してください"); }
        if (!resp.ok) { throw new Error("サーバーが応答しません（" + resp.status + "）"); }
        return resp.text();
      }, function () {
        throw new Error("サーバーに接続できません。ネットワークを確認してください");
      })
      .then(function (html) {
        say(day + "の受付（自動で更新されます）", false);
        if (html === last) { return; }
        last = html;
        var holder = document.createElement("table");
        holder.innerHTML = html;
        var fresh = holder.querySelector("tbody");
        var current = document.getElementById("patient-rows");
        if (fresh && current) { current.replaceWith(fresh); }
        applySearch();
        countNew();
      })
      .catch(function (error) {
        // Keep the rows we have and try again next time; say so meanwhile.
        say("更新が止まりました：" + error.message + "（" + new Date().toLocaleTimeString("ja-JP") + "）", true);
      });
  }
  if (search) { search.addEventListener("input", applySearch); }
  var sort = document.getElementById("sort");
  if (sort && sort.form) { sort.addEventListener("change", function () { sort.form.submit(); }); }
  setInterval(refresh, 4000);
})();
