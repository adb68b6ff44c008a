"""Segments are ordinary gzip + JSON Lines: other tools read them as the spec says."""
import gzip
import json
import subprocess


def make_spool(bin_dir, tmp_path, megabytes=2):
    out = subprocess.run([str(bin_dir / "segment-bench"), "--dir", str(tmp_path), "--megabytes", str(megabytes)],
                         check=True, capture_output=True, text=True)
    return tmp_path / "spool", json.loads(out.stdout)


def test_python_gzip_reads_every_record_in_order(bin_dir, tmp_path):
    spool, result = make_spool(bin_dir, tmp_path)
    segments = sorted(spool.glob("*.seg.gz"))
    assert segments, "the writer produced no finished segment"
    seqs = []
    for segment in segments:
        with gzip.open(segment, "rt", encoding="utf-8") as f:  # multi-member gzip, FHCRC headers
            lines = [json.loads(line) for line in f]
        assert lines[0]["kind"] == "header" and lines[0]["format"] == "mcp-recorder-segment"
        assert lines[-1]["kind"] == "trailer"
        records = lines[1:-1]
        assert lines[-1]["records"] == len(records)
        seqs += [r["seq"] for r in records]
    assert seqs == list(range(1, result["records"] + 1))


def test_zcat_and_jq_read_a_segment(bin_dir, tmp_path):
    spool, _ = make_spool(bin_dir, tmp_path)
    segment = sorted(spool.glob("*.seg.gz"))[0]
    out = subprocess.run(f"zcat '{segment}' | jq -c 'select(.kind == \"jsonrpc\" and .type == \"request\") | .tool // .method'",
                         shell=True, check=True, capture_output=True, text=True).stdout.split()
    assert out, "jq found no jsonrpc record"
    assert all(name.startswith('"') for name in out)


def test_cli_cat_output_equals_the_decompressed_lines(bin_dir, recorder, tmp_path):
    spool, _ = make_spool(bin_dir, tmp_path)
    segments = sorted(spool.glob("*.seg.gz"))
    expected = b"".join(gzip.open(s, "rb").read() for s in segments)
    got = subprocess.run([recorder, "segments", "cat", str(spool)], check=True, capture_output=True).stdout
    assert got == expected
