/* The proof of work of the booking page (ADR 1402); page.py fills the __NAMES__. */

(function(){var f=document.getElementById('idform');if(!f)return;var st=document.getElementById('powstatus');
function zeros(d){var b=0;for(var i=0;i<d.length;i++){if(d[i]===0){b+=8;continue}var x=d[i];while(!(x&128)){b++;x<<=1}return b}return b}
f.addEventListener('submit',function(e){if(f.dataset.done)return;e.preventDefault();
var btn=f.querySelector('button');btn.disabled=true;st.textContent='__WORKING__';
var enc=new TextEncoder(),pre=f.elements.pow.value+':__CID__:',n=0;
function batch(){var ps=[];for(var i=0;i<256;i++){ps.push(crypto.subtle.digest('SHA-256',enc.encode(pre+(n+i))))}
return Promise.all(ps).then(function(ds){for(var i=0;i<ds.length;i++){if(zeros(new Uint8Array(ds[i]))>=__BITS__){return n+i}}n+=256;return batch()})}
batch().then(function(found){f.elements.pow_nonce.value=String(found);f.dataset.done='1';f.submit()})});})();
