// Module shapes for files imported as text (embedded in the compiled binary).
declare module "*.yaml" {
  const text: string;
  export default text;
}
