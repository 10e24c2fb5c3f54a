/* The booking widget (chalicelib/booking/widget.py fills the __NAMES__). */
(function(){
var U=__URL__,O=__ORIGINS__,L=__LABELS__,C=__COLOUR__;
var s=document.currentScript;var lang=(document.documentElement.lang||'es').slice(0,2)==='en'?'en':'es';
var b=document.createElement('button');b.type='button';b.textContent=L[lang];
b.setAttribute('style','background:'+C+';color:#fff;border:0;border-radius:6px;padding:12px 18px;font:600 16px system-ui,sans-serif;cursor:pointer');
b.addEventListener('click',function(){var url=U+'?lang='+lang;
if(O.indexOf(location.origin)<0){window.open(url,'_blank','noopener');return}
var d=document.createElement('div');d.setAttribute('role','dialog');d.setAttribute('aria-modal','true');d.setAttribute('aria-label',L[lang]);
d.setAttribute('style','position:fixed;inset:0;background:rgba(0,0,0,.5);z-index:2147483647;display:flex;align-items:center;justify-content:center');
var f=document.createElement('iframe');f.src=url;f.title=L[lang];f.setAttribute('style','width:min(640px,100%);height:min(760px,100%);border:0;background:#fff;border-radius:8px');
var x=document.createElement('button');x.type='button';x.textContent='\u00d7';x.setAttribute('aria-label',lang==='en'?'Close':'Cerrar');
x.setAttribute('style','position:absolute;top:8px;right:12px;font-size:28px;background:#fff;border:0;border-radius:50%;width:44px;height:44px;cursor:pointer');
function close(){d.remove();b.focus();document.removeEventListener('keydown',esc)}function esc(e){if(e.key==='Escape')close()}
x.addEventListener('click',close);document.addEventListener('keydown',esc);d.appendChild(f);d.appendChild(x);document.body.appendChild(d);x.focus()});
s.parentNode.insertBefore(b,s.nextSibling)})();
