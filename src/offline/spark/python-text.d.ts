/** Python scripts embedded as text (`with { type: "text" }`), written out where they run. */
declare module "*.py" {
  const text: string;
  export default text;
}
