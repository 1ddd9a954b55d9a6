/** Files the bundler emits beside the script: a stylesheet is linked from index.html, an image becomes its URL. */
declare module '*.css'
declare module '*.svg' {
  const url: string
  export default url
}
