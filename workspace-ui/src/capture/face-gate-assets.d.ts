/** URLs of the face gate's files in the built app (workspace-ui/vite.config.ts `faceGateAssets`). */
declare module 'virtual:face-gate-assets' {
  const assets: { readonly wasmLoaderPath: string; readonly wasmBinaryPath: string; readonly modelAssetPath: string };
  export default assets;
}
