// Vite needs the prebuilt bundle (plain `simple-peer` fails at run time: `global is not defined`);
// it has the same API as the package's main entry.
declare module 'simple-peer/simplepeer.min.js' {
  import SimplePeer from 'simple-peer';
  export default SimplePeer;
}
