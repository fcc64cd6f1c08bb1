# SPDX-License-Identifier: MIT
# The chart of bench-results/results.png, from the data files bench/chart.py writes.
# gnuplot -e "data='DIR'; png='FILE'; subtitle='TEXT'" bench/chart.gp
set terminal pngcairo size 1500,1000 font ",10"
set output png
set datafile missing '?'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set key outside bottom center horizontal font ",9"
set xtics font ",8"
set grid ytics
set multiplot layout 2,2 title "fieldfs benchmark: ".subtitle
set logscale y
set yrange [0.0001:*]
set ylabel "µs per operation (log)"
set title "pinned: client and daemon on CPU 0"
plot for [c=2:7] data.'/lat-pinned.dat' using c:xtic(1) title columnheader(c)
set title "unpinned"
plot for [c=2:7] data.'/lat-unpinned.dat' using c:xtic(1) title columnheader(c)
set yrange [1:*]
set ylabel "aggregate kops/s (log)"
set title "concurrent reader processes, pread on held fds, pinned"
plot for [c=2:5] data.'/conc-pinned.dat' using c:xtic(1) title columnheader(c)
set title "concurrent reader processes, pread on held fds, unpinned"
plot for [c=2:5] data.'/conc-unpinned.dat' using c:xtic(1) title columnheader(c)
unset multiplot
