
document.querySelectorAll('table.lb th').forEach(function(th, col){
  th.addEventListener('click', function(){
    var table = th.closest('table'), body = table.tBodies[0];
    var asc = !th.classList.contains('sorted-asc');
    table.querySelectorAll('th').forEach(function(h){h.classList.remove('sorted-asc','sorted-desc');});
    th.classList.add(asc ? 'sorted-asc' : 'sorted-desc');
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function(a, b){
      var x = a.cells[col].dataset.v, y = b.cells[col].dataset.v;
      var nx = parseFloat(x), ny = parseFloat(y);
      var mx = (x === ''), my = (y === '');
      if (mx !== my) return mx ? 1 : -1;  // a row without a value goes last, in both directions
      var c = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : String(x).localeCompare(String(y));
      if (isNaN(nx) !== isNaN(ny)) c = isNaN(nx) ? 1 : -1;
      return asc ? c : -c;
    });
    rows.forEach(function(r){ body.appendChild(r); });
  });
});
(function(){
  var m = /sort=([^:&]+)(:desc)?/.exec(window.location.hash || '');
  if (!m) return;
  var key = decodeURIComponent(m[1]), ths = document.querySelectorAll('table.lb th');
  var th = /^\d+$/.test(key) ? ths[parseInt(key, 10)] :
    Array.prototype.find.call(ths, function(h){ return h.dataset.key === key; });
  if (!th) return;
  th.click();
  if (m[2]) th.click();
})();
