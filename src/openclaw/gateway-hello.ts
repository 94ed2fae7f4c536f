/**
 * The cheap stand-in for `openclaw gateway status --json` in a diagnose pass: one `node` process on
 * the host reads openclaw.json, opens one WebSocket to the gateway on loopback and sends the
 * protocol's `connect` with the config token (read there, never printed), as the CLI's own probe
 * does (client `cli`, mode `probe`: the gateway logs a refusal of it like the CLI's, which the
 * correlation already counts as benign). It prints the same JSON shape as the CLI (`rpc`, `gateway`,
 * `port`, `logFile`, `config.cli.path`), so parseGatewayStatusJson reads either; then, on the same
 * connection, the `health` RPC (what `openclaw health --json` prints) and the installed version from
 * the package.json beside the openclaw bin. The real 2026.9.6 CLI costs 3.6 s + 7 s + 0.5 s and ~300 MB
 * for these three; this is one node start and one loopback connection.
 */

/** `probe` field of the JSON this script prints: tells its output apart from the CLI's. */
export const HELLO_PROBE_NAME = 'clawmedic-hello';

/** Exit code of the hello when it cannot tell (no plain token, no answer in time): the CLI answers instead. */
export const HELLO_UNSURE_RC = 5;

/**
 * Node (CommonJS, no dependency, Node ≥ 18) run as `node -e <this> -- <port> <timeout ms> <openclaw bin>`.
 * Prints evidence sections with their markers: `config` (the facts CONFIG_NODE_SCRIPT prints, from
 * the same file, with the `.clobbered` copies as CLOBBERED_JS lists them), `gateway_status` (pretty JSON, so the script's sed
 * finds `logFile` and the config `path` as in the CLI's), `health` when the gateway answered it (or
 * refused the probe: rc 1, as the CLI's health fails then), `version` when a package.json says it.
 * Exit 0 when it could tell (the gateway answered, refused, or nothing listens); 5 when it could not.
 * A gateway still starting (close 1013 "gateway starting; retry shortly") is asked again every 0.5 s
 * until the deadline, as a client of it would.
 */
export const GATEWAY_HELLO_JS = String.raw`
const fs=require('fs'),os=require('os'),path=require('path'),net=require('net'),tls=require('tls'),crypto=require('crypto');
const A=process.argv.slice(1);const argPort=Number(A[0])||18789,tmo=Number(A[1])||5000,bin=A[2]||'openclaw';
const S='@@CLAWMEDIC section=',R='@@CLAWMEDIC rc=';
const sec=(n,body,rc)=>process.stdout.write('\n'+S+n+'\n'+body+'\n\n'+R+rc+'\n');
const s=v=>v===undefined||v===null?'':String(v).replace(/[\r\n]/g,' ');
const p=process.env.OPENCLAW_CONFIG_PATH||path.join(process.env.OPENCLAW_STATE_DIR||path.join(os.homedir(),'.openclaw'),'openclaw.json');
let c=null;try{const t=fs.readFileSync(p,'utf8');try{c=JSON.parse(t)}catch(e){c=JSON.parse(t.replace(/\/\*[\s\S]*?\*\//g,'').replace(/^\s*\/\/.*$/gm,'').replace(/,(\s*[}\]])/g,'$1'))}}catch(e){c=null}
const g=(c&&c.gateway)||{},a=g.auth||{};
const port=Number(g.port)>0?Number(g.port):argPort;const useTls=!!(g.tls&&g.tls.enabled);
const url=(useTls?'wss':'ws')+'://127.0.0.1:'+port;
let version;try{let b=bin;if(!b.includes('/')){for(const d of (process.env.PATH||'').split(':')){const f=path.join(d||'.',b);if(fs.existsSync(f)){b=f;break}}}
let d=path.dirname(fs.realpathSync(b));for(let i=0;i<3&&!version;i++){try{const j=JSON.parse(fs.readFileSync(path.join(d,'package.json'),'utf8'));if(j.name==='openclaw'&&typeof j.version==='string')version=j.version}catch(e){}d=path.dirname(d)}}catch(e){}
let logFile=c&&c.logging&&typeof c.logging.file==='string'?c.logging.file:undefined;
if(!logFile){let dir='/tmp/openclaw';try{const st=fs.statSync(dir);if(typeof process.getuid==='function'&&st.uid!==process.getuid())dir='/tmp/openclaw-'+process.getuid()}catch(e){}
const d=new Date(),ds=d.getFullYear()+'-'+String(d.getMonth()+1).padStart(2,'0')+'-'+String(d.getDate()).padStart(2,'0');logFile=path.join(dir,'openclaw-'+ds+'.log')}
const clob=()=>{let cl=[];try{const b=path.basename(p)+'.clobbered.';cl=fs.readdirSync(path.dirname(p)).filter(f=>f.startsWith(b)).map(f=>f.slice(b.length)).sort().slice(-3)}catch(e){}return 'clobbered='+cl.map(s).join(',')};
let sock;
const out={probe:'clawmedic-hello',cli:version?{version}:undefined,logFile,config:{cli:{path:p}},gateway:{bindMode:s(g.bind)||undefined,port,probeUrl:url},port:{port,listeners:[],hints:[]},rpc:{ok:false,url}};
let done=false,health;
const fin=(rc)=>{if(done)return;done=true;clearTimeout(timer);try{sock&&sock.destroy()}catch(e){}
if(rc===0){const r=g.remote||{},u=g.controlUi||{};sec('config',['path='+p,'mode='+s(g.mode),'bind='+s(g.bind),'port='+s(g.port),'remoteUrl='+s(r.url),'authMode='+s(a.mode),'authTokenSet='+(a.token?'yes':'no'),'remoteTokenSet='+(r.token?'yes':'no'),'allowedOrigins='+(Array.isArray(u.allowedOrigins)?u.allowedOrigins.map(s).join(','):''),clob()].join('\n'),0);
sec('gateway_status',JSON.stringify(out,null,2),0);
if(health)sec('health',JSON.stringify(health,null,2),0);else if(out.rpc.ok===false)sec('health','gateway probe failed: '+s(out.rpc.error),1);
if(version)sec('version',version,0)}else process.stdout.write('clawmedic hello: '+s(out.rpc.error)+'\n');
process.exit(rc)};
const fail=(err,kind,extra)=>{out.rpc.ok=false;out.rpc.error=err;out.rpc.connectFailure=Object.assign({kind},extra||{});fin(0)};
const unsure=(why)=>{out.rpc.error=out.rpc.error?why+' ('+out.rpc.error+')':why;fin(5)};
const token=typeof a.token==='string'?a.token:'';
const timer=setTimeout(()=>{if(out.rpc.ok===true)fin(0);else unsure('no answer in time')},tmo);
if(!c)unsure('config not readable: '+p);else if(!token)unsure('no plain gateway.auth.token in the config');
const key=crypto.randomBytes(16).toString('base64');let buf=Buffer.alloc(0),upgraded=false;
const send=(obj)=>{const pl=Buffer.from(JSON.stringify(obj));const m=crypto.randomBytes(4);let h;
if(pl.length<126)h=Buffer.from([0x81,0x80|pl.length]);else{h=Buffer.alloc(4);h[0]=0x81;h[1]=0x80|126;h.writeUInt16BE(pl.length,2)}
for(let i=0;i<pl.length;i++)pl[i]^=m[i&3];sock.write(Buffer.concat([h,m,pl]))};
const onMsg=(txt)=>{let m;try{m=JSON.parse(txt)}catch(e){return}
if(m.type==='event'&&m.event==='connect.challenge'){send({type:'req',id:'clawmedic-probe',method:'connect',params:{minProtocol:3,maxProtocol:4,client:{id:'cli',version:'clawmedic',platform:process.platform,mode:'probe'},role:'operator',scopes:['operator.read'],caps:[],auth:{token}}});return}
if(m.type==='res'&&m.id==='clawmedic-probe'){if(m.ok){const sv=(m.payload&&m.payload.server)||{};out.rpc.ok=true;out.rpc.server={version:sv.version||null};if(sv.version){out.rpc.version=sv.version;out.gateway.version=sv.version}
send({type:'req',id:'clawmedic-health',method:'health',params:{}})}
else{const e=m.error||{};const d=e.details||{};const msg=s(e.message)||'connect refused';if(/gateway starting/i.test(msg)){out.rpc.error=msg;return retry()}const code=typeof d.code==='string'?d.code:undefined;
fail(msg,/unauthori|token|pairing|rate.?limit|AUTH_/i.test(msg+' '+(code||''))?'auth-rejected':'rejected',code?{detailCode:code}:{})}return}
if(m.type==='res'&&m.id==='clawmedic-health'){if(m.ok&&m.payload&&typeof m.payload==='object')health=m.payload;fin(0)}};
const onFrames=()=>{for(;;){if(buf.length<2)return;const op=buf[0]&0x0f;let len=buf[1]&0x7f,off=2;if(len===126){if(buf.length<4)return;len=buf.readUInt16BE(2);off=4}else if(len===127){if(buf.length<10)return;len=Number(buf.readBigUInt64BE(2));off=10}
if(buf[1]&0x80)off+=4;if(buf.length<off+len)return;const pl=buf.subarray(off,off+len);buf=buf.subarray(off+len);
if(op===1)onMsg(pl.toString('utf8'));else if(op===8){const code=pl.length>=2?pl.readUInt16BE(0):1005;const why=pl.subarray(2).toString('utf8');
if(out.rpc.ok===true)return fin(0);if(code===1013||/gateway starting/i.test(why)){out.rpc.error='gateway starting: '+why;return retry()}fail('gateway closed ('+code+'): '+why,/unauthori|token|pairing/i.test(why)?'auth-rejected':'closed')}}};
const retry=()=>{try{sock.removeAllListeners();sock.on('error',()=>{});sock.destroy()}catch(e){}buf=Buffer.alloc(0);upgraded=false;out.port.status=undefined;if(!done)setTimeout(go,500)};
function go(){if(done)return;const opts={host:'127.0.0.1',port};
sock=useTls?tls.connect(Object.assign(opts,{rejectUnauthorized:false,servername:'localhost'})):net.connect(opts);
sock.on('error',(e)=>{if(out.rpc.ok===true)return fin(0);if(upgraded)return unsure('connection lost: '+s(e.code||e.message));
if(e.code==='ECONNREFUSED'){out.port.status='free';return fail('connect ECONNREFUSED 127.0.0.1:'+port,'unreachable')}unsure('connect '+s(e.code||e.message))});
sock.on('close',()=>{if(done)return;if(out.rpc.ok===true)return fin(0);unsure(upgraded?'the gateway closed the connection without an answer':'connection closed before an HTTP answer')});
sock.on(useTls?'secureConnect':'connect',()=>{out.port.status='busy';sock.write('GET / HTTP/1.1\r\nHost: 127.0.0.1:'+port+'\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: '+key+'\r\nSec-WebSocket-Version: 13\r\nUser-Agent: clawmedic-probe\r\n\r\n')});
sock.on('data',(d)=>{buf=Buffer.concat([buf,d]);if(!upgraded){const i=buf.indexOf('\r\n\r\n');if(i<0){if(buf.length>65536)unsure('no HTTP answer');return}
const head=buf.subarray(0,i).toString('latin1');buf=buf.subarray(i+4);const st=/^HTTP\/1\.[01] (\d{3})/.exec(head);
if(!st)return fail('not an HTTP answer on port '+port,'unreachable');
if(st[1]!=='101')return fail('gateway rejected websocket upgrade (HTTP '+st[1]+')','unreachable');
upgraded=true;out.rpc.gatewayReached=true}onFrames()})}
go();
`;
