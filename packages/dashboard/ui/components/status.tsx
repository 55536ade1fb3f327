export function Status({ status }: { status: string }) {
  return (
    <span class={`badge s-${status}`} data-status={status}>
      {status}
    </span>
  );
}
