# ruff: noqa: E501 - JavaScript and HTML in strings
"""The room's two pages (participant and facilitator): plain HTML, CSS and a little JavaScript.

No framework and nothing from a CDN: the pages poll the JSON API (``/api/state``,
``/api/facilitator/state``) about once a second and post actions; the participant's token is
kept in the browser's ``localStorage``, so a participant who drops out rejoins its role by
reopening the page. Readable at 390x844 (one column, wide tables scroll inside their box).
"""

from __future__ import annotations

CSS = """
*{box-sizing:border-box}body{font-family:system-ui,-apple-system,sans-serif;margin:0;font-size:16px;color:#222}
header{background:#1565c0;color:#fff;padding:.6rem .8rem;display:flex;gap:.5rem;align-items:center;flex-wrap:wrap}
header h1{font-size:1.05rem;margin:0;flex:1 1 auto}header button{background:#fff2;color:#fff;border:1px solid #fff8}
main{padding:.8rem;max-width:1200px;margin:0 auto}section{margin-bottom:1rem}
.card{border:1px solid #ddd;border-radius:8px;padding:.7rem;margin-bottom:.8rem;background:#fafafa}
label{display:block;font-weight:600;margin:.5rem 0 .2rem}select,input{width:100%;font-size:16px;padding:.45rem;
border:1px solid #bbb;border-radius:6px;background:#fff}button{font-size:16px;padding:.5rem .8rem;border-radius:6px;
border:1px solid #1565c0;background:#1565c0;color:#fff;cursor:pointer;margin:.2rem .2rem .2rem 0}
button:disabled{opacity:.45;cursor:default}button.secondary{background:#fff;color:#1565c0}
.banner{padding:.5rem .7rem;border-radius:6px;background:#fff3e0;border:1px solid #ef6c00;margin-bottom:.6rem}
.ok{color:#2e7d32;font-weight:600}.err{color:#c62828;font-weight:600}
.wrap{overflow-x:auto;max-width:100%}table{border-collapse:collapse;font-size:.9rem}td,th{border:1px solid #ddd;
padding:3px 6px;text-align:left;vertical-align:top}.grid{display:grid;grid-template-columns:repeat(auto-fill,
minmax(300px,1fr));gap:.8rem}.code{font-size:2.6rem;letter-spacing:.3rem;font-weight:700;font-family:monospace}
.muted{color:#666;font-size:.9rem}svg{display:block;background:#fff}
@media (min-width:900px){.cols{display:grid;grid-template-columns:minmax(320px,420px) 1fr;gap:1rem}}
"""

COMMON_JS = """
const S={lang:localStorage.getItem('ws_lang')||'sv',T:{}};
async function api(path,body){const r=await fetch(path,{method:'POST',headers:{'Content-Type':'application/json'},
 body:JSON.stringify(Object.assign({lang:S.lang},body))});let j;try{j=await r.json()}catch(e){j={error:r.statusText}}
 if(!r.ok){const e=new Error(j.error||r.statusText);e.status=r.status;throw e}return j}
async function loadTexts(){const r=await fetch('/api/texts?lang='+S.lang);S.T=await r.json();
 document.documentElement.lang=S.lang;document.querySelectorAll('[data-t]').forEach(e=>{e.textContent=t(e.dataset.t)})}
function t(k){return S.T[k]||k}
function esc(s){return String(s==null?'':s).replace(/[&<>"']/g,c=>({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;',"'":'&#39;'}[c]))}
function $(id){return document.getElementById(id)}
async function setLang(l){S.lang=l;localStorage.setItem('ws_lang',l);await loadTexts();S.formKey=null;if(window.poll)poll()}
function timelineTable(d){let h='<div class="wrap"><table id="timeline"><tr><th>'+t('role')+'</th>';
 const n=d.timeline.length?d.timeline[0].rounds.length:0;for(let i=0;i<n;i++)h+='<th>'+t('round')+' '+(i+1)+'<br><small>'
 +t('month')+' '+d.timeline[0].rounds[i].month+'</small></th>';h+='</tr>';
 for(const r of d.timeline){h+='<tr data-role="'+esc(r.role)+'"><th>'+esc(r.label)+'</th>';
  for(const e of r.rounds)h+='<td class="src-'+e.source+'">'+esc(e.text)+'<br><small>'+esc(t('source_'+e.source))+' '
  +esc(e.player)+'</small></td>';h+='</tr>'}return h+'</table></div>'}
function debriefHtml(d){let note=d.first_decision_month==null?t('no_decision'):t('identical').replace('{m}',d.first_decision_month);
 return '<h2>'+t('debrief')+'</h2><p id="identical-note">'+esc(note)+'</p><div class="grid" id="debrief-charts">'
 +d.charts.join('')+'</div><h3>'+t('timeline')+'</h3>'+timelineTable(d)}
function langButtons(){return '<button class="secondary" onclick="setLang(\\'sv\\')">Svenska</button>'
 +'<button class="secondary" onclick="setLang(\\'en\\')">English</button>'}
"""

PARTICIPANT_JS = """
S.token=localStorage.getItem('ws_token');
function fieldInput(f,v){const id='f-'+f.name;let h='<label for="'+id+'">'+esc(t('f_'+f.name))+'</label>';
 if(f.low!==null){h+='<input id="'+id+'" name="'+f.name+'" type="number" inputmode="numeric" min="'+f.low+'" max="'
  +f.high+'" placeholder="'+esc(t('o_auto'))+' ('+f.low+'-'+f.high+' '+esc(f.unit)+')" value="'+(v==='auto'?'':v)+'">'}
 else{h+='<select id="'+id+'" name="'+f.name+'">'+f.options.map(o=>'<option value="'+o+'"'+(o===v?' selected':'')
  +'>'+esc(t('o_'+o))+'</option>').join('')+'</select>'}return h}
function readForm(fields){const d={};for(const f of fields){const e=$('f-'+f.name);
 if(f.low!==null){d[f.name]=e.value===''?'auto':Number(e.value)}else d[f.name]=e.value}return d}
async function join(){$('join-msg').textContent='';try{const j=await api('/api/join',{room:$('join-code').value,
 name:$('join-name').value,role:$('join-role').value});S.token=j.token;localStorage.setItem('ws_token',j.token);
 S.formKey=null;poll()}catch(e){$('join-msg').textContent=e.message}}
async function loadRoles(){const code=$('join-code').value;if(code.length<6)return;try{const j=await api('/api/roles',{room:code});
 $('join-role').innerHTML='<option value="">'+esc(t('any_free_role'))+'</option>'+j.roles.map(r=>'<option value="'
 +r.key+'">'+esc(r.label)+'</option>').join('');$('join-msg').textContent=''}catch(e){$('join-msg').textContent=e.message}}
async function send(){try{const j=await api('/api/decide',{token:S.token,role:S.view.role.key,round:S.view.round,
 decision:readForm(S.view.fields)});$('sent-msg').className='ok';$('sent-msg').textContent=t('sent')+' '+j.round}
 catch(e){$('sent-msg').className='err';$('sent-msg').textContent=e.message}poll()}
function situationHtml(v){const s=v.situation;if(s.agents){let h='<p>'+t('your_place')+': <b>'+esc(s.place)+'</b>; '
 +t('sites_running')+': <b id="sites-here">'+s.sites_here+'</b>; '+t('value_here')+': <b>'+s.value_here+'</b></p>'
 +'<div class="wrap"><table id="agents"><tr><th>id</th><th>'+t('status')+'</th><th>'+t('funding')+'</th><th>'
 +t('element')+'</th><th>F</th><th>L</th></tr>';for(const a of s.agents)h+='<tr><td>'+a.id+'</td><td>'+esc(t('s_'+a.status))
 +'</td><td>'+esc(t('fu_'+a.funding))+'</td><td>'+(a.element?esc(t('o_'+a.element)):'')+'</td><td>'+(a.fidelity??'')+'</td><td>'
 +(a.fit??'')+'</td></tr>';h+='</table></div>';if(s.last_changed!==null)h+='<p class="muted" id="last-changed">'
 +esc(t('last_round').replace('{n}',s.last_changed))+'</p>';return h}if('grants' in s)return '<p>'+t('grants')+': <b>'+s.grants+'</b>; '+t('applicants')+': <b>'
 +s.applicants.length+'</b></p>';return '<p>'+t('policy')+': <b>'+(s.policy_in_force?t('in_force'):t('not_in_force'))
 +'</b>; '+s.places_reached+' / '+s.places+'</p>'}
function render(v){S.view=v;$('join').hidden=true;$('game').hidden=false;
 $('status').innerHTML='<b>'+esc(v.name)+'</b> &middot; '+(v.role?esc(v.role.label):'')+' &middot; <span id="status-round">'
 +t('round')+' '+v.round+'</span> &middot; '+t('month')+' '+v.month+'<br><span id="phase">'+esc(t('phase_'+v.phase))+'</span>';
 $('paused').hidden=!v.paused;$('decision').hidden=v.phase==='ended';
 if(!v.role){$('decision').innerHTML='<p>'+t('no_role')+'</p>';S.formKey=null}
 else{const key=v.role.key+'/'+v.round+'/'+v.phase+'/'+S.lang;if(S.formKey!==key){S.formKey=key;
  $('decision').innerHTML='<h2>'+t('your_decision')+'</h2>'+v.fields.map(f=>fieldInput(f,v.decision[f.name])).join('')
  +'<button id="send">'+t('send')+'</button> <span id="sent-msg"></span>';$('send').onclick=send;
  if(v.submitted){$('sent-msg').className='ok';$('sent-msg').textContent=t('sent')+' '+v.round}}
  $('send').disabled=v.phase!=='open'||v.paused;$('situation').innerHTML=situationHtml(v)}
 $('charts').innerHTML=v.charts.join('');
 $('others').innerHTML=v.others?'<div class="wrap"><table id="places"><tr><th></th><th>'+t('sites_running')+'</th><th>'
  +t('value_social')+'</th></tr>'+v.others.map(p=>'<tr><td>'+esc(p.place)+'</td><td>'+p.sites+'</td><td>'+p.value
  +'</td></tr>').join('')+'</table></div>':'<p class="muted">'+t('hidden')+'</p>';
 $('debrief').innerHTML=v.debrief?debriefHtml(v.debrief):''}
async function poll(){if(!S.token){$('join').hidden=false;$('game').hidden=true;return}
 try{render(await api('/api/state',{token:S.token}));$('offline').hidden=true}
 catch(e){if(e.status===401){localStorage.removeItem('ws_token');S.token=null;$('join').hidden=false;$('game').hidden=true;
  $('join-msg').textContent=t('removed')}else{$('offline').hidden=false}}}
window.addEventListener('load',async()=>{await loadTexts();const q=new URLSearchParams(location.search);
 if(q.get('room'))$('join-code').value=q.get('room');$('join-code').oninput=loadRoles;$('join-btn').onclick=join;
 $('langs').innerHTML=langButtons();loadRoles();poll();setInterval(poll,800)});
"""

FACILITATOR_JS = """
S.key=new URLSearchParams(location.search).get('key')||'';
async function act(action,extra){try{await api('/api/facilitator/action',Object.assign({key:S.key,action:action},extra||{}));
 $('act-msg').textContent=''}catch(e){$('act-msg').textContent=e.message}poll()}
function render(v){$('code').textContent=v.code;$('join-url').textContent=v.join_url;$('qr').innerHTML=v.qr;
 $('state').innerHTML='<span id="status-round">'+t('round')+' '+v.round+'</span> &middot; '+t('month')+' '+v.month
  +' &middot; <span id="phase">'+esc(t('phase_'+v.phase))+'</span>'+(v.paused?' &middot; <b>'+t('paused')+'</b>':'');
 $('open').disabled=v.phase==='open'||v.phase==='ended';$('close').disabled=v.phase!=='open'||v.paused;
 $('pause').textContent=v.paused?t('resume'):t('pause');$('reveal').textContent=v.reveal?t('hide'):t('reveal');
 S.v=v;if(document.activeElement!==$('steps'))$('steps').value=v.round_steps;
 const opts=r=>'<option value="">-</option>'+v.roles.map(x=>'<option value="'+x.key+'"'+(x.key===r?' selected':'')+'>'
  +esc(x.label)+'</option>').join('');
 if(!document.activeElement||!document.activeElement.classList.contains('assign'))
 $('participants').innerHTML='<tr><th>'+t('name')+'</th><th>'+t('role')+'</th><th></th><th></th></tr>'
  +v.participants.map(p=>'<tr data-pid="'+p.pid+'"><td>'+esc(p.name)+'</td><td><select class="assign" data-pid="'+p.pid+'">'
  +opts(p.role)+'</select></td><td>'+(p.decided?'<span class="ok">'+t('decided')+'</span>':'')+'</td><td><button '
  +'class="secondary kick" data-pid="'+p.pid+'">'+t('kick')+'</button></td></tr>').join('');
 document.querySelectorAll('.kick').forEach(b=>b.onclick=()=>act('kick',{pid:b.dataset.pid}));
 document.querySelectorAll('.assign').forEach(s=>s.onchange=()=>act('assign',{pid:s.dataset.pid,role:s.value}));
 $('refusals').innerHTML=v.refusals.map(r=>'<li>'+esc(r.time+' '+r.detail)+'</li>').join('');
 $('charts').innerHTML=v.charts.join('');
 $('places').innerHTML='<tr><th></th><th>'+t('sites_running')+'</th><th>'+t('value_social')+'</th></tr>'+v.places.map(p=>
  '<tr><td>'+esc(p.place)+'</td><td>'+p.sites+'</td><td>'+p.value+'</td></tr>').join('');
 $('debrief').innerHTML=v.debrief?debriefHtml(v.debrief)+'<p><a id="export-html" href="/api/report.html?lang='+S.lang
  +'&key='+encodeURIComponent(S.key)+'">'+t('export_html')+'</a> &middot; <a id="export-parquet" href="/api/decisions.parquet?key='
  +encodeURIComponent(S.key)+'">'+t('export_parquet')+'</a></p>':''}
async function poll(){try{render(await api('/api/facilitator/state',{key:S.key}));$('offline').hidden=true}
 catch(e){if(e.status===403)$('act-msg').textContent=e.message;else $('offline').hidden=false}}
window.addEventListener('load',async()=>{await loadTexts();$('langs').innerHTML=langButtons();
 $('open').onclick=()=>act('open');$('close').onclick=()=>act('close');$('restart').onclick=()=>act('restart');
 $('end').onclick=()=>act('end');$('pause').onclick=()=>act(S.v&&S.v.paused?'resume':'pause');
 $('reveal').onclick=()=>act(S.v&&S.v.reveal?'hide':'reveal');
 $('set-steps').onclick=()=>act('round_steps',{steps:Number($('steps').value)});poll();setInterval(poll,800)});
"""


def _page(title_key: str, body: str, js: str) -> str:
    return f"""<!doctype html><html lang="sv"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>sim workshop</title>
<style>{CSS}</style></head><body><header><h1 data-t="{title_key}"></h1><span id="langs"></span></header>
<main><div id="offline" class="banner" hidden>offline: reconnecting...</div>{body}</main>
<script>{COMMON_JS}{js}</script></body></html>"""


def participant_page() -> str:
    """The join page, which becomes the participant's page once joined."""
    body = """
<section id="join" class="card" hidden><h2 data-t="join"></h2>
<label for="join-code" data-t="room_code"></label><input id="join-code" autocomplete="off" autocapitalize="characters" maxlength="12">
<label for="join-name" data-t="your_name"></label><input id="join-name" maxlength="40" autocomplete="nickname">
<label for="join-role" data-t="role"></label><select id="join-role"></select>
<button id="join-btn" data-t="join"></button><p id="join-msg" class="err"></p></section>
<section id="game" hidden><div class="card" id="status"></div><div id="paused" class="banner" data-t="paused" hidden></div>
<div id="debrief"></div>
<div class="cols"><div><div class="card" id="decision"></div><div class="card" id="situation"></div></div>
<div><h2 data-t="shared"></h2><div class="grid" id="charts"></div><h3 data-t="others"></h3><div id="others"></div></div></div>
</section>"""
    return _page("title", body, PARTICIPANT_JS)


def facilitator_page() -> str:
    """The facilitator's page (its key is in its address, printed by ``sim workshop``)."""
    body = """
<div id="debrief"></div>
<div class="cols"><section><div class="card"><div class="muted" data-t="room_code"></div><div class="code" id="code"></div>
<div class="muted"><span data-t="join_at"></span> <span id="join-url"></span></div><div id="qr"></div></div>
<div class="card"><div id="state"></div>
<button id="open" data-t="open_round"></button><button id="close" data-t="close_round"></button>
<button id="pause" class="secondary"></button><button id="reveal" class="secondary"></button>
<button id="restart" class="secondary" data-t="restart_round"></button><button id="end" class="secondary" data-t="end_game"></button>
<label for="steps" data-t="round_length"></label><input id="steps" type="number" min="1" max="60" style="width:6rem">
<button id="set-steps" class="secondary" data-t="set"></button><p id="act-msg" class="err"></p></div>
<div class="card"><h3 data-t="participants"></h3><div class="wrap"><table id="participants"></table></div></div>
<div class="card"><h3 data-t="refusals"></h3><ul id="refusals"></ul></div></section>
<section><div class="grid" id="charts"></div><div class="wrap"><table id="places"></table></div></section></div>"""
    return _page("facilitator", body, FACILITATOR_JS)
